#!/usr/bin/env bash
# Iceberg write and read rates, side by side with their peers in the same run:
#   write: our DataFileWriter + FastAppend vs pyiceberg `append` of the same rows (zstd, 200-byte raw_bytes);
#   read:  our ScanReader on `partition`,`offset` vs duckdb read_parquet over the same files.
# Usage: scripts/bench-iceberg.sh [ROWS]   (needs a release build: make release)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS="${1:-1000000}"
DIR="$(mktemp -d)"
trap 'rm -rf "$DIR"' EXIT
OURS="$(.build/release/iceberg-bench "$DIR" "$ROWS")"
.venv/bin/python - "$DIR" "$ROWS" "$OURS" <<'PY'
import sys, json, time
import pyarrow as pa, duckdb
from pyiceberg.catalog.sql import SqlCatalog
d, rows, ours = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
def raw_column(rows):
    # iceberg-bench leaves the exact raw_bytes it wrote in raw.bin (200 bytes per row), so both sides write the same rows.
    with open(f"{d}/raw.bin", "rb") as f:
        buf = pa.py_buffer(f.read())
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(200), rows, [None, buf]).cast(pa.binary())
offs = list(range(rows))
base, day = 1764028800000000, 20417
tbl = pa.table({
    "raw_bytes": raw_column(rows), "topic": pa.array(["binance.trades"] * rows),
    "partition": pa.array([o % 6 for o in offs], pa.int32()), "offset": pa.array(offs, pa.int64()),
    "kafka_timestamp": pa.array([base + o * 1000 for o in offs], pa.timestamp("us", tz="UTC")),
    "ingestion_timestamp": pa.array([base + o for o in offs], pa.timestamp("us", tz="UTC")),
    "ingestion_date": pa.array([day] * rows, pa.int32()).cast(pa.date32()),
})
cat = SqlCatalog("k2", uri=f"sqlite:///{d}/py-catalog.db", warehouse=f"file://{d}/py-warehouse")
cat.create_namespace("market_data")
from pyiceberg.partitioning import PartitionSpec, PartitionField
from pyiceberg.transforms import DayTransform
t = cat.create_table("market_data.bench", tbl.schema, properties={"write.parquet.compression-codec": "zstd", "write.parquet.compression-level": "1"})
with t.update_spec() as u:
    u.add_field("ingestion_date", DayTransform(), "ingestion_date_day")
t = cat.load_table("market_data.bench")
start = time.perf_counter(); t.append(tbl); py_write = time.perf_counter() - start
files = [f[len("file://"):] for f in ours["files"]]
start = time.perf_counter()
n, s = duckdb.sql(f'SELECT count("offset"), sum("offset") FROM read_parquet({files!r})').fetchall()[0]
# duckdb aggregates without materializing; also time materializing the two columns, as our reader does.
a = duckdb.sql(f'SELECT "partition", "offset" FROM read_parquet({files!r})').arrow()
duck_read = time.perf_counter() - start
assert n == rows == ours["read_rows"] and s == ours["checksum"], (n, s, ours["read_rows"], ours["checksum"])
ow, orr = rows / ours["write_seconds"], rows / ours["read_seconds"]
pw, dr = rows / py_write, rows / duck_read
print(f"iceberg write  {rows} rows: k2 {ow:,.0f} rows/s  pyiceberg append {pw:,.0f} rows/s  ratio {ow / pw:.2f}x")
print(f"iceberg read   {rows} rows (partition, offset): k2 {orr:,.0f} rows/s  duckdb read_parquet {dr:,.0f} rows/s  ratio {orr / dr:.2f}x")
PY
