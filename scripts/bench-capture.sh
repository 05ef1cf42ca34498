#!/usr/bin/env bash
# `make bench` section "capture": k2-capture recording Binance trade frames from k2-exchange-sim over loopback
# (ws://, throughput scenario: frames as fast as the connection takes them). Prints a Markdown section.
# Usage: scripts/bench-capture.sh BIN WORK FRAMES
set -euo pipefail
BIN=$1 WORK=$2 FRAMES=${3:-1000000}
dir=$WORK/capture
rm -rf "$dir"; mkdir -p "$dir"
"$BIN/k2-exchange-sim" --feed binance --scenario throughput --count "$FRAMES" > "$dir/sim.out" 2>"$dir/sim.err" &
sim=$!
trap 'kill $sim 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q listening "$dir/sim.out" 2>/dev/null && break; sleep 0.1; done
url=$(awk '/listening/{print $2}' "$dir/sim.out")
# wall seconds, user and system CPU seconds of the capture process alone.
/usr/bin/time -f "%e %U %S" -o "$dir/time.txt" \
    "$BIN/k2-capture" binance --url "$url" --out "$dir/log" --max-messages "$FRAMES" --json --stall-timeout 30s \
    > "$dir/summary.json" 2> "$dir/capture.log"
kill $sim 2>/dev/null || true
python3 - "$dir/time.txt" "$dir/summary.json" "$FRAMES" "$(nproc)" "$(uname -m)" <<'PY'
import json, sys
wall, user, system = map(float, open(sys.argv[1]).read().split()[-3:])
summary = json.load(open(sys.argv[2]))
frames, cpus, arch = int(sys.argv[3]), sys.argv[4], sys.argv[5]
recorded = summary["messages"]
rate = recorded / wall
cpu = user + system
print("## Capture (`k2-capture binance` from `k2-exchange-sim` over loopback)\n")
print(f"{frames:,} Binance trade frames (about {summary['bytes'] // max(1, recorded)} bytes each) sent as fast as the connection "
      f"takes them; the capture records each byte-exact (zstd-3 blocks, fsync every 1 s) and stops at --max-messages. "
      f"Machine: {cpus} CPUs ({arch}), shared with other jobs; the simulator runs on the same machine.\n")
print("| frames sent | frames recorded | lost | wall s | frames/s | capture CPU s | CPU cores per 10,000 frames/s |")
print("|---:|---:|---:|---:|---:|---:|---:|")
print(f"| {frames:,} | {recorded:,} | {frames - recorded:,} | {wall:.2f} | {rate:,.0f} | {cpu:.2f} | {cpu / wall / (rate / 10000):.3f} |")
print(f"\nTarget: 100,000 frames/s sustained. Reconnects during the run: {summary['reconnects']}; gaps: {summary['gaps']}.")
PY
