#!/usr/bin/env bash
# `make bench`: each benchmark runs side by side with its named peer; results go to docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "no benchmarks yet" >&2
