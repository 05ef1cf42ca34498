#!/usr/bin/env bash
# `make bench`: each benchmark runs side by side with its named peer; results go to docs/benchmarks.md.
#
# Structure: one function per section (bench_<name>), each printing its Markdown section on stdout;
# write_section replaces only that section of docs/benchmarks.md (between its markers), so sections
# written by other runs stay. Run one section: scripts/bench.sh segment
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(swift build -c release --show-bin-path)
DOC=docs/benchmarks.md
WORK=var/bench
mkdir -p "$WORK"

# write_section NAME: stdin is the section body; replaces <!-- bench:NAME --> ... <!-- /bench:NAME --> in $DOC.
write_section() {
    local name=$1 body
    body=$(cat)
    # Which build measured it: the commit (and whether the tree had uncommitted changes) and when.
    local rev
    rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    git diff --quiet HEAD -- Sources Package.swift 2>/dev/null || rev="$rev with uncommitted changes"
    export BENCH_STAMP="Measured $(date -u '+%Y-%m-%d %H:%M') UTC, release build of $rev."
    python3 - "$DOC" "$name" "$body" <<'PY'
import os, re, sys
doc, name, body = sys.argv[1], sys.argv[2], sys.argv[3]
start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
text = open(doc).read() if os.path.exists(doc) else "# Benchmarks\n\nWritten by `make bench` (scripts/bench.sh); each figure beside its peer.\n"
stamp = os.environ.get("BENCH_STAMP", "")
block = f"{start}\n{body.rstrip()}\n" + (f"\n{stamp}\n" if stamp else "") + end
if start in text:
    text = re.sub(re.escape(start) + r".*?" + re.escape(end), lambda _: block, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + block + "\n"
open(doc, "w").write(text)
PY
    echo "bench: wrote section '$name' of $DOC" >&2
}

# seconds COMMAND...: CPU seconds (user + system) of the best of 3 runs, comparable with k2-bench's
# per-thread CPU time on a machine shared with other jobs.
seconds() {
    local best="" t
    for _ in 1 2 3; do
        t=$( { /usr/bin/time -f "%U %S" "$@" >/dev/null; } 2>&1 | tail -1 | awk '{print $1 + $2}' )
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $t < $best else 1)"; then best=$t; fi
    done
    echo "$best"
}

bench_segment() {
    local dir=$WORK/segment records=${SEGMENT_RECORDS:-1000000}
    "$BIN/k2-bench" segment --records "$records" --dir "$dir" > "$WORK/segment.json"
    local frames=$dir/frames.jsonl
    local zstd_s lz4_s
    zstd_s=$(seconds sh -c "zstd -3 -T1 -q -c '$frames' > '$dir/frames.zst'")
    lz4_s=$(seconds sh -c "lz4 -1 -q -c '$frames' > '$dir/frames.lz4'")
    python3 - "$WORK/segment.json" "$frames" "$dir/frames.zst" "$dir/frames.lz4" "$zstd_s" "$lz4_s" \
        "$(zstd --version | head -1)" "$(lz4 --version 2>&1 | head -1)" "$(nproc)" "$(uname -m)" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))
frames, zst, lz = sys.argv[2:5]
zstd_s, lz4_s = float(sys.argv[5]), float(sys.argv[6])
zver, lver, cpus, arch = sys.argv[7:11]
raw = os.path.getsize(frames)
peer = {"zstd-3": (raw / zstd_s / 1e6, os.path.getsize(zst)), "lz4": (raw / lz4_s / 1e6, os.path.getsize(lz))}
print("## Segment log (`k2-bench segment`)\n")
print(f"{r['records']:,} Binance combined-stream trade frames, {r['meanFrameBytes']:.0f} bytes on average "
      f"({r['payloadBytes']/1e6:.1f} MB), two streams, {r['blockBytes']//1024} KiB blocks, fsync never, "
      f"one thread, release build; {arch}, {cpus} cores shared with other jobs. Peer: the same bytes "
      f"(one frame per line) through the CLI, `zstd -3 -T1` ({zver.split(',')[0]}) and `lz4 -1` ({lver.split(',')[0]}), "
      f"best of 3 for both sides, file in page cache. Rates are per CPU second (user + system) on both sides, "
      f"because the machine is shared with other builds.\n")
print("| codec | append records/s | append MB/s | peer CLI MB/s | speed vs peer | log bytes | peer bytes | size vs peer | read records/s |")
print("|---|---|---|---|---|---|---|---|---|")
for name in ("lz4", "zstd-3"):
    m = r[name]
    pm, pb = peer[name]
    print(f"| {name} | {m['appendRecordsPerSecond']:,.0f} | {m['appendMBPerSecond']:.0f} | {pm:.0f} | "
          f"{m['appendMBPerSecond']/pm:.2f}x | {m['logBytes']:,} | {pb:,} | {m['logBytes']/pb:.3f}x | {m['readRecordsPerSecond']:,.0f} |")
z = r["zstd-3"]
ok_speed = z["appendMBPerSecond"] / peer["zstd-3"][0] >= 0.7
ok_size = z["logBytes"] <= 1.10 * peer["zstd-3"][1]
ok_read = min(r["lz4"]["readRecordsPerSecond"], z["readRecordsPerSecond"]) >= 2_000_000
print()
print(f"Targets: append with zstd-3 at ≥ 0.7x the zstd CLI's MB/s — **{'met' if ok_speed else 'NOT met'}**; "
      f"at a size within 10% of it — **{'met' if ok_size else 'NOT met'}**; "
      f"read ≥ 2,000,000 records/s — **{'met' if ok_read else 'NOT met'}**.")
print()
print("Log bytes include block headers, stream keys, per-record fields (kind, flags, time and sequence deltas, "
      "length) and the segment index; the peer compresses the bare frames plus newlines. Read = decompress, "
      "CRC-32C check, decode, and one `[UInt8]` payload per record, merged across the two streams by receive time.")
PY
}

# Iceberg write/read beside pyiceberg and duckdb (scripts/bench-iceberg.sh prints its own figures).
bench_iceberg() {
    local rows=${ICEBERG_BENCH_ROWS:-1000000}
    echo "## Iceberg (\`scripts/bench-iceberg.sh\`)"
    echo
    echo "$rows Bronze-shaped rows (200-byte raw_bytes, zstd, one day partition, local warehouse, SQLite catalog)."
    echo "Write: our DataFileWriter + FastAppend vs pyiceberg $(.venv/bin/python -c 'import pyiceberg; print(pyiceberg.__version__)') \`Table.append\` of the same rows (already in"
    echo "memory as Arrow), same run. Read: our ScanReader on \`partition\`, \`offset\` vs duckdb $(.venv/bin/python -c 'import duckdb; print(duckdb.__version__)')"
    echo "\`read_parquet\` of the same files. Wall clock, release build, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)."
    echo "Targets: both ratios ≥ 1.0x."
    echo
    echo '```'
    bash scripts/bench-iceberg.sh "$rows"
    echo '```'
}

# k2-verify beside duckdb on a pair of 10-million-row Bronze tables (scripts/bench_verify.sh).
bench_verify() {
    K2_VERIFY_BIN="$BIN/k2-verify" BENCH_DIR="$WORK/verify" bash scripts/bench_verify.sh
}

# Kafka replay beside kcat -P, and the pacing checks (scripts/bench-kafka.sh prints its own section).
bench_kafka() {
    bash scripts/bench-kafka.sh "$BIN" "$WORK" "${KAFKA_BENCH_MESSAGES:-500000}"
}

# Replay into Bronze Iceberg tables from a segment log and from Kafka, beside pyiceberg append.
bench_bronze() {
    bash scripts/bench-bronze.sh "${BRONZE_BENCH_TRADES:-500000}"
}

# k2-capture recording the exchange simulator over loopback (scripts/bench-capture.sh).
bench_capture() {
    bash scripts/bench-capture.sh "$BIN" "$WORK" "${CAPTURE_BENCH_FRAMES:-1000000}" "${CAPTURE_BENCH_RUNS:-3}"
}

sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(segment iceberg kafka verify bronze capture)
for s in "${sections[@]}"; do
    # The whole section first: a benchmark that fails stops here and leaves the section already in $DOC as it was
    # (piping straight into write_section would replace it with whatever was printed before the failure).
    body=$("bench_$s")
    printf '%s\n' "$body" | write_section "$s"
done
