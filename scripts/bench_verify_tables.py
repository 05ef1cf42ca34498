"""Writes the k2-verify benchmark pair with pyiceberg: two Bronze tables of ROWS rows each (Spark style and
Flink style), the same Kafka records in 8 partitions, the Flink table missing three offset ranges.

usage: bench_verify_tables.py OUT_DIR ROWS
Prints JSON: the data file paths of each table (for the duckdb side of the benchmark).
"""
import json
import os
import sys

import itertools
import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import (BinaryType, DateType, IntegerType, LongType, NestedField, StringType,
                             TimestampType, TimestamptzType)

TOPIC = "market.crypto.trades.binance.raw"
PARTITIONS = 8
BASE_US = 1707436800_000_000   # 2024-02-09T00:00:00Z
MISSING_IN_RIGHT = [(1, 100_000, 100_999), (5, 700_000, 700_049), (7, 5, 5)]


def schema(spark):
    required = not spark
    ts = TimestamptzType() if spark else TimestampType()
    return Schema(
        NestedField(1, "raw_bytes", BinaryType(), required=required),
        NestedField(2, "topic", StringType(), required=required),
        NestedField(3, "partition", IntegerType(), required=required),
        NestedField(4, "offset", LongType(), required=required),
        NestedField(5, "kafka_timestamp", ts, required=required),
        NestedField(6, "ingestion_timestamp", ts, required=required),
        NestedField(7, "ingestion_date", DateType(), required=required))


def batch(first_offset, per_partition, spark, drop):
    """Offsets [first_offset, first_offset + per_partition) of every partition, grouped by partition."""
    one = pa.array(range(first_offset, first_offset + per_partition), pa.int64())
    offsets = pa.concat_arrays([one] * PARTITIONS)
    partitions = pa.concat_arrays([pa.array(itertools.repeat(p, per_partition), pa.int32()) for p in range(PARTITIONS)])
    keep = None
    for p, a, b in drop:
        hit = pc.and_(pc.equal(partitions, p), pc.and_(pc.greater_equal(offsets, a), pc.less_equal(offsets, b)))
        keep = pc.invert(hit) if keep is None else pc.and_(keep, pc.invert(hit))
    if keep is not None:
        offsets, partitions = offsets.filter(keep), partitions.filter(keep)
    # 50 records per second per partition.
    kafka_us = pc.add(pc.add(pc.multiply(offsets, 20_000), BASE_US), pc.cast(partitions, pa.int64()))
    ingest_us = pc.add(kafka_us, 1_500_000)
    raw = pc.binary_join_element_wise("\x00\x00\x00\x00\x07trade p", pc.cast(partitions, pa.string()), " o",
                                      pc.cast(offsets, pa.string()), " price 42150.50 qty 0.015", "")
    ts_type = pa.timestamp("us", tz="UTC") if spark else pa.timestamp("us")
    n = len(offsets)
    fields = [("raw_bytes", pc.cast(raw, pa.binary())), ("topic", pa.array(itertools.repeat(TOPIC, n), pa.string())),
              ("partition", partitions), ("offset", offsets),
              ("kafka_timestamp", kafka_us.cast(ts_type)), ("ingestion_timestamp", ingest_us.cast(ts_type)),
              ("ingestion_date", pc.cast(pc.divide(ingest_us, 86_400_000_000), pa.int32()).cast(pa.date32()))]
    return pa.table(dict(fields), schema=pa.schema([pa.field(name, array.type, nullable=spark) for name, array in fields]))


def main():
    out, rows = sys.argv[1], int(sys.argv[2])
    os.makedirs(os.path.join(out, "warehouse"), exist_ok=True)
    catalog = SqlCatalog("k2", uri=f"sqlite:///{out}/catalog.db", warehouse=f"file://{out}/warehouse")
    catalog.create_namespace("market_data")
    spark = catalog.create_table("market_data.bronze_binance_trades", schema=schema(True),
        partition_spec=PartitionSpec(PartitionField(7, 1000, DayTransform(), "ingestion_date_day")),
        properties={"write.parquet.compression-codec": "zstd"})
    flink = catalog.create_table("market_data.bronze_binance_trades_flink", schema=schema(False),
        partition_spec=PartitionSpec(PartitionField(7, 1000, IdentityTransform(), "ingestion_date")),
        properties={"write.parquet.compression-codec": "snappy"})
    per_partition = rows // PARTITIONS
    step = 125_000   # offsets per partition per append: 1M rows per commit with 8 partitions
    for first in range(0, per_partition, step):
        count = min(step, per_partition - first)
        spark.append(batch(first, count, True, []))
        flink.append(batch(first, count, False, MISSING_IN_RIGHT))
    files = {name: [t.file.file_path.removeprefix("file://") for t in table.scan().plan_files()]
             for name, table in (("left", catalog.load_table("market_data.bronze_binance_trades")),
                                 ("right", catalog.load_table("market_data.bronze_binance_trades_flink")))}
    print(json.dumps(files))


if __name__ == "__main__":
    main()
