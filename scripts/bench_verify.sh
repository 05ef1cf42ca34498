#!/usr/bin/env bash
# k2-verify against duckdb on the same pair of Bronze tables (ROWS rows each, default 10 million):
# wall time and peak memory (/usr/bin/time -v) of each, and a check that both found the same missing ranges.
# Appends its section to docs/benchmarks.md. Needs a release build (`make release`) and the checker venv.
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-10000000}
BIN=${K2_VERIFY_BIN:-.build/release/k2-verify}
PY=.venv/bin/python
WORK=${BENCH_DIR:-var/bench-verify}
rm -rf "$WORK" && mkdir -p "$WORK"
echo "bench-verify: writing two tables of $ROWS rows with pyiceberg into $WORK" >&2
$PY scripts/bench_verify_tables.py "$(realpath "$WORK")" "$ROWS" > "$WORK/files.json"

measure() {   # name, command...: runs it under /usr/bin/time -v, prints "seconds max_rss_kb"
  local name=$1; shift
  /usr/bin/time -v "$@" > "$WORK/$name.out" 2> "$WORK/$name.time" || [ $? -le 1 ]
  local wall rss
  wall=$(grep "Elapsed (wall clock)" "$WORK/$name.time" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(grep "Maximum resident set size" "$WORK/$name.time" | awk '{print $NF}')
  echo "$wall $rss"
}
# Warm the page cache for both, so neither pays the first read from disk.
cat $(python3 -c "import json; d=json.load(open('$WORK/files.json')); print(' '.join(d['left']+d['right']))") > /dev/null
read -r kv_wall kv_rss < <(measure k2-verify "$BIN" --catalog "sqlite:$WORK/catalog.db" \
  --left market_data.bronze_binance_trades --right market_data.bronze_binance_trades_flink --json)
read -r dd_wall dd_rss < <(measure duckdb "$PY" scripts/bench_verify_duckdb.py "$WORK/files.json")

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
## k2-verify vs duckdb ($(date -u +%Y-%m-%dT%H:%MZ))

Two Bronze tables of $ROWS rows each (8 partitions, pyiceberg-written: Spark style zstd, Flink style
snappy, the Flink one missing three offset ranges). Same machine, same run, page cache warm.
k2-verify: \`k2-verify --catalog sqlite:... --left ...bronze_binance_trades --right ...bronze_binance_trades_flink --json\`
(per-partition counts, min/max, missing ranges, duplicates, hour/date counts, table health).
duckdb: \`scripts/bench_verify_duckdb.py\` (the same per-partition counts, min/max, missing ranges, duplicates
over the same Parquet files, \`partition\` and \`offset\` columns). Both found the same missing ranges.

| tool | wall (s) | peak RSS (MB) |
|---|---|---|
| k2-verify | $kv_wall | $((kv_rss / 1024)) |
| duckdb $($PY -c "import duckdb; print(duckdb.__version__)") | $dd_wall | $((dd_rss / 1024)) |

Ratio k2-verify / duckdb wall time: **$ratio** (target ≤ 1.0); k2-verify peak memory target < 512 MB.
MD
)
touch docs/benchmarks.md
python3 - docs/benchmarks.md "$section" <<'PYEOF'
import re, sys
path, section = sys.argv[1], sys.argv[2]
text = open(path).read()
text = re.sub(r"## k2-verify vs duckdb.*?(?=\n## |\Z)", "", text, flags=re.S).rstrip()
open(path, "w").write((text + "\n\n" if text else "# Benchmarks\n\n") + section + "\n")
PYEOF
echo "$section"
