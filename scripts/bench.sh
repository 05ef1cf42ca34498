#!/usr/bin/env bash
# `make bench`: each benchmark runs side by side with its named peer; results go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bench-iceberg.sh "${ICEBERG_BENCH_ROWS:-1000000}"
