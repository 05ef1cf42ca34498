#!/usr/bin/env bash
# `make run`: the main job on embedded defaults. Grows with each program (see README).
# One function per stage; each prints what it does. Work goes to var/run/.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build -c release --show-bin-path)
RUN=var/run
mkdir -p "$RUN"

# Stage 1: the bundled fixture frames written into a segment log (as a capture records them), checked,
# compacted to zstd-9, checked again, and a few records read back.
stage_segment_log() {
    local log=$RUN/log
    rm -rf "$log"
    echo "== stage 1: segment log from the bundled fixture frames -> $log"
    "$BIN/k2-bench" write-log --out "$log" \
        fixtures/binance/combined-trades.jsonl fixtures/kraken/v1-frames.jsonl fixtures/kraken/v2-frames.jsonl
    echo "-- k2-compact $log --check"
    "$BIN/k2-compact" "$log" --check
    echo "-- k2-compact $log --all --codec zstd-9   (merge, recompress, de-duplicate)"
    "$BIN/k2-compact" "$log" --all --codec zstd-9
    "$BIN/k2-compact" "$log" --check | tail -1
    echo "-- a few records read back"
    "$BIN/k2-bench" read-log "$log" --limit 3 --source binance
    "$BIN/k2-bench" read-log "$log" --limit 3 --source kraken
    "$BIN/k2-bench" read-log "$log" --limit 3 --source kraken-v2
}

stage_segment_log
