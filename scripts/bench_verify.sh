#!/usr/bin/env bash
# k2-verify against duckdb on the same pair of Bronze tables (ROWS rows each, default 10 million):
# wall time and peak memory (/usr/bin/time -v) of each, and a check that both found the same missing ranges.
# Prints its Markdown section (scripts/bench.sh puts it into docs/benchmarks.md). Needs a release build and the venv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-10000000}
BIN=${K2_VERIFY_BIN:-.build/release/k2-verify}
LOAD_BEFORE=$(uptime | sed 's/.*load average: //')
PY=.venv/bin/python
WORK=${BENCH_DIR:-var/bench-verify}
rm -rf "$WORK" && mkdir -p "$WORK"
echo "bench-verify: writing two tables of $ROWS rows with pyiceberg into $WORK" >&2
$PY scripts/bench_verify_tables.py "$(realpath "$WORK")" "$ROWS" > "$WORK/files.json"

measure() {   # name, command...: runs it under /usr/bin/time -v, prints "wall_seconds max_rss_kb cpu_seconds"
  local name=$1; shift
  /usr/bin/time -v "$@" > "$WORK/$name.out" 2> "$WORK/$name.time" || [ $? -le 1 ]
  local wall rss cpu
  wall=$(grep "Elapsed (wall clock)" "$WORK/$name.time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$WORK/$name.time" | awk '{print $NF}')
  cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {printf "%.2f", s}' "$WORK/$name.time")
  echo "$wall $rss $cpu"
}
RUNS=${VERIFY_BENCH_RUNS:-3}
best() {   # name, command...: the run with the least wall time of $RUNS (k2-verify and duckdb alike), as measure
  # prints it; every run's wall time goes to $WORK/NAME.walls. One run is at the mercy of a shared machine.
  local name=$1; shift
  local best_line="" line wall
  : > "$WORK/$name.walls"
  for _ in $(seq 1 "$RUNS"); do
    line=$(measure "$name" "$@")
    wall=${line%% *}
    echo "$wall" >> "$WORK/$name.walls"
    if [ -z "$best_line" ] || python3 -c "import sys; sys.exit(0 if $wall < ${best_line%% *} else 1)"; then best_line=$line; fi
  done
  echo "$best_line"
}
walls() { paste -sd, "$WORK/$1.walls" | sed 's/,/, /g'; }
# Warm the page cache for both, so neither pays the first read from disk.
cat $(python3 -c "import json; d=json.load(open('$WORK/files.json')); print(' '.join(d['left']+d['right']))") > /dev/null
read -r kv_wall kv_rss kv_cpu < <(best k2-verify "$BIN" --catalog "sqlite:$WORK/catalog.db" \
  --left market_data.bronze_binance_trades --right market_data.bronze_binance_trades_flink --json)
read -r dd_wall dd_rss dd_cpu < <(best duckdb "$PY" scripts/bench_verify_duckdb.py "$WORK/files.json")
# And with payloads (raw_bytes hashed per offset and compared): no duckdb counterpart, shown for memory.
read -r kp_wall kp_rss kp_cpu < <(best k2-verify-payload "$BIN" --catalog "sqlite:$WORK/catalog.db" \
  --left market_data.bronze_binance_trades --right market_data.bronze_binance_trades_flink --payload --json)

# Both must have found the same missing ranges per partition.
python3 - "$WORK/k2-verify.out" "$WORK/duckdb.out" <<'PYEOF'
import json, sys
ours = json.load(open(sys.argv[1])); theirs = json.load(open(sys.argv[2]))
for p in ours["partitions"]:
    d = theirs[str(p["partition"])]
    assert p["missing_in_right"] == d["missing_in_right"], (p["partition"], p["missing_in_right"], d["missing_in_right"])
    assert p["missing_in_left"] == d["missing_in_left"], p["partition"]
    assert p["left"]["rows"] == d["l"]["rows"] and p["right"]["rows"] == d["r"]["rows"], p["partition"]
    assert p["left"]["min_offset"] == d["l"]["min"] and p["right"]["max_offset"] == d["r"]["max"], p["partition"]
print("bench-verify: k2-verify and duckdb agree on every partition", file=sys.stderr)
PYEOF

ratio=$(python3 -c "print(f'{$kv_wall / $dd_wall:.2f}')")
section=$(cat <<MD
## k2-verify vs duckdb ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores shared with other jobs)

Two Bronze tables of $ROWS rows each (8 partitions, pyiceberg-written: Spark style zstd, Flink style
snappy, the Flink one missing three offset ranges). Same machine, same run, page cache warm.
k2-verify: \`k2-verify --catalog sqlite:... --left ...bronze_binance_trades --right ...bronze_binance_trades_flink --json\`
(per-partition counts, min/max, missing ranges, duplicates, hour/date counts, table health).
duckdb: \`scripts/bench_verify_duckdb.py\` (the same per-partition counts, min/max, missing ranges, duplicates
over the same Parquet files, \`partition\` and \`offset\` columns). Both found the same missing ranges.
Each runs $RUNS times; the table shows the fastest run (its CPU and memory) and every run's wall time.

| tool | wall (s), best | CPU user+sys (s) | peak RSS (MB) | runs (s) |
|---|---|---|---|---|
| k2-verify | $kv_wall | $kv_cpu | $((kv_rss / 1024)) | $(walls k2-verify) |
| duckdb $($PY -c "import duckdb; print(duckdb.__version__)") | $dd_wall | $dd_cpu | $((dd_rss / 1024)) | $(walls duckdb) |
| k2-verify --payload (no peer) | $kp_wall | $kp_cpu | $((kp_rss / 1024)) | $(walls k2-verify-payload) |

Ratio k2-verify / duckdb wall time: **$ratio** (target ≤ 1.0); k2-verify peak memory target < 512 MB.
Load average (1, 5, 15 min) before: $LOAD_BEFORE; after: $(uptime | sed 's/.*load average: //').
MD
)
echo "$section"
