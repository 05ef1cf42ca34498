"""The peer of bench:bronze, one round: pyiceberg's `Table.append` of the rows our first replay wrote (read back
into Arrow first, outside the timing) into a fresh table with the same schema, spec and properties, after one
untimed append into a scratch table (so the timed call is a warm one, as when it was the best of three appends
in one process). Prints "WALL CPU ROWS BYTES WALL3 CPU3": seconds of the timed append call alone, rows, mean raw_bytes size, and
the seconds of the same append into a table asking for zstd level 3.   Usage: bench_bronze_peer.py WORK ROUND"""
import os
import sys
import time

from pyiceberg.catalog.sql import SqlCatalog

work, round_ = sys.argv[1], sys.argv[2]
src = SqlCatalog("k2", uri=f"sqlite:///{work}/log-1.db", warehouse="file://" + os.path.abspath(f"{work}/wh-log-1"))
table = src.load_table("market_data.bronze_binance_trades")
rows = table.scan().to_arrow()
peer = SqlCatalog("k2", uri=f"sqlite:///{work}/peer.db", warehouse="file://" + os.path.abspath(f"{work}/wh-peer"))
if ("market_data",) not in peer.list_namespaces():
    peer.create_namespace("market_data")
for name in (f"market_data.warmup_{round_}", f"market_data.peer_{round_}"):
    target = peer.create_table(name, schema=table.schema(), partition_spec=table.spec(),
                               properties=table.properties)
    if name.endswith(f"warmup_{round_}"):
        target.append(rows)
start, cpu_start = time.perf_counter(), time.process_time()
target.append(rows)
wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
# The same append into a table that asks for zstd level 3: what our writer (and Java Iceberg, so Spark and Flink)
# use when a table sets no level, where pyarrow's default is level 1. Reported beside the verdict, not instead.
level3 = peer.create_table(f"market_data.peer3_{round_}", schema=table.schema(), partition_spec=table.spec(),
                           properties={**table.properties, "write.parquet.compression-level": "3"})
start, cpu_start = time.perf_counter(), time.process_time()
level3.append(rows)
wall3, cpu3 = time.perf_counter() - start, time.process_time() - cpu_start
print(f"{wall:.3f} {cpu:.3f} {rows.num_rows} {rows.column('raw_bytes').nbytes // max(1, rows.num_rows)} {wall3:.3f} {cpu3:.3f}")
