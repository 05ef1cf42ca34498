#!/usr/bin/env bash
# `make run`: the main job on embedded defaults. Grows with each program (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build -c release --show-bin-path)
echo "k2-backfill: programs built in $BIN"
for p in k2-capture k2-replay k2-compact k2-verify; do ls -l "$BIN/$p" | awk '{print $5, $9}'; done
