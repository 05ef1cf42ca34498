"""Bronze table pairs whose data files were written by Spark (pyspark, local, Java 17) and registered
with pyiceberg `add_files` (so the files carry no Iceberg field ids: readers go by the table's name mapping).

usage: verify_spark_fixtures.py OUT_DIR

The same records and table styles as verify_fixtures.py. Defects:
  left (Spark style, zstd files):  offsets 100-149 of partition 0 missing; payload of partition 1 offset 42
                                   changed; partition 4 (offsets 0-49) only here; one data file (partition 3,
                                   offsets 590-599) registered by two snapshots.
  right (Flink style, snappy files, required columns, timestamp without zone): offsets 300-304 of
                                   partition 2 in a second file as well (duplicated).
The left side's timestamps are INT96 (Spark's default `outputTimestampType`), the right side's INT64 micros.
Prints JSON: the file registered twice and the snapshots that registered it.
"""
import json
import os
import sys
from contextlib import contextmanager

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import datetime as dt

import pyiceberg.io.pyarrow as pyiceberg_arrow
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyspark.sql import SparkSession
from pyspark.sql.types import (BinaryType, DateType, IntegerType, LongType, StringType, StructField, StructType,
                               TimestampNTZType, TimestampType)

from verify_fixtures import iceberg_schema, records


def spark_rows(rows, spark_style):
    utc = dt.timezone.utc
    out = []
    for r in rows:
        ts = dt.datetime.fromtimestamp(r["kafka_ts_ms"] / 1000, tz=utc)
        ingest = dt.datetime.fromtimestamp(r["ingest_ms"] / 1000, tz=utc)
        if not spark_style:
            ts, ingest = ts.replace(tzinfo=None), ingest.replace(tzinfo=None)
        out.append((bytearray(r["raw_bytes"]), r["topic"], r["partition"], r["offset"], ts, ingest, ingest.date()))
    return out


def spark_schema(spark_style):
    nullable = spark_style
    ts = TimestampType() if spark_style else TimestampNTZType()
    return StructType([
        StructField("raw_bytes", BinaryType(), nullable), StructField("topic", StringType(), nullable),
        StructField("partition", IntegerType(), nullable), StructField("offset", LongType(), nullable),
        StructField("kafka_timestamp", ts, nullable), StructField("ingestion_timestamp", ts, nullable),
        StructField("ingestion_date", DateType(), nullable)])


@contextmanager
def accepting_int96():
    """pyiceberg 0.12's add_files refuses INT96 files: its schema check reads INT96 as a zone-less nanosecond
    timestamp. The check is skipped while INT96 files are added (their timestamp columns get no metrics, see
    the table properties); the rest of add_files (statistics, manifests, snapshot) stays pyiceberg's."""
    check = pyiceberg_arrow._check_pyarrow_schema_compatible
    pyiceberg_arrow._check_pyarrow_schema_compatible = lambda *args, **kwargs: None
    try:
        yield
    finally:
        pyiceberg_arrow._check_pyarrow_schema_compatible = check


def main():
    out = sys.argv[1]
    os.makedirs(os.path.join(out, "spark"), exist_ok=True)
    session = (SparkSession.builder.master("local[1]").appName("k2-verify-fixtures")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "1")
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    counter = [0]

    def write(rows, spark_style, codec):
        """One Parquet file written by Spark; returns its path."""
        counter[0] += 1
        target = os.path.join(out, "spark", f"batch-{counter[0]:03d}")
        session.conf.set("spark.sql.parquet.outputTimestampType", "INT96" if spark_style else "TIMESTAMP_MICROS")
        frame = session.createDataFrame(spark_rows(rows, spark_style), spark_schema(spark_style))
        frame.coalesce(1).write.option("compression", codec).parquet(target)
        [name] = [f for f in os.listdir(target) if f.endswith(".parquet")]
        return os.path.join(target, name)

    def by_day(rows):
        days = {}
        for r in rows:
            days.setdefault(dt.datetime.fromtimestamp(r["ingest_ms"] / 1000, tz=dt.timezone.utc).date(), []).append(r)
        return [days[d] for d in sorted(days)]

    left_rows, right_rows = [], []
    for p in range(4):
        left_rows += records(p, 0, 599, skip=[(100, 149)] if p == 0 else ([(590, 599)] if p == 3 else []),
                             changed=[42] if p == 1 else [])
        right_rows += records(p, 0, 599)
    left_rows += records(4, 0, 49)

    catalog = SqlCatalog("k2", uri=f"sqlite:///{os.path.join(out, 'catalog.db')}",
                         warehouse=f"file://{os.path.join(out, 'warehouse')}")
    catalog.create_namespace("market_data")
    left = catalog.create_table("market_data.bronze_binance_trades", schema=iceberg_schema(True),
        partition_spec=PartitionSpec(PartitionField(7, 1000, DayTransform(), "ingestion_date_day")),
        # pyiceberg's statistics code expects INT64 timestamps: no metrics for the INT96 columns.
        properties={"write.parquet.compression-codec": "zstd", "write.metadata.metrics.column.kafka_timestamp": "none",
                    "write.metadata.metrics.column.ingestion_timestamp": "none"})
    right = catalog.create_table("market_data.bronze_binance_trades_flink", schema=iceberg_schema(False),
        partition_spec=PartitionSpec(PartitionField(7, 1000, IdentityTransform(), "ingestion_date")),
        properties={"write.parquet.compression-codec": "snappy"})
    # add_files needs one partition value per file: one file per ingestion day.
    for rows in by_day(left_rows):
        with accepting_int96():
            left.add_files([write(rows, True, "zstd")], snapshot_properties={"spark.sql.streaming.epochId": "1"})
    for rows in by_day(right_rows):
        right.add_files([write(rows, False, "snappy")], snapshot_properties={"flink.max-committed-checkpoint-id": "1"})
    right.add_files([write(records(2, 300, 304), False, "snappy")])
    twice = write(records(3, 590, 599), True, "zstd")
    with accepting_int96():
        left.add_files([twice], snapshot_properties={"spark.sql.streaming.epochId": "2"})
        first = left.current_snapshot().snapshot_id
        left.add_files([twice], snapshot_properties={"spark.sql.streaming.epochId": "3"}, check_duplicate_files=False)
    second = catalog.load_table("market_data.bronze_binance_trades").current_snapshot().snapshot_id
    session.stop()
    print(json.dumps({"twice_file": twice, "twice_snapshots": [first, second]}))


if __name__ == "__main__":
    main()
