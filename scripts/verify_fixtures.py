"""Bronze table pairs for k2-verify tests, written by pyiceberg (an independent Iceberg implementation).

usage: verify_fixtures.py OUT_DIR {clean|defects} [CATALOG_URI]

Creates OUT_DIR/catalog.db (SQL catalog "k2" on SQLite; or the SQLAlchemy CATALOG_URI, e.g.
postgresql+psycopg2://USER@HOST:PORT/DB with the password in PGPASSWORD) and OUT_DIR/warehouse with two tables built from
the same Kafka records, in the two K2 Bronze styles (docs/k2-platform.md §3):
  market_data.bronze_binance_trades        Spark style: optional columns, timestamptz, day(ingestion_date), zstd
  market_data.bronze_binance_trades_flink  Flink style: required columns, timestamp (ms values),
                                           identity(ingestion_date), snappy, gzip metadata
With "defects", each table gets the defects listed in DEFECTS below (the test asserts exactly these).
Prints a JSON object with the snapshot ids and the data file committed twice.
"""
import datetime as dt
import gzip
import json
import os
import sys

import pyarrow as pa
import sqlalchemy
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform, IdentityTransform
from pyiceberg.types import (BinaryType, DateType, IntegerType, LongType, NestedField, StringType,
                             TimestampType, TimestamptzType)

TOPIC = "market.crypto.trades.binance.raw"
OFFSETS = 600                      # per partition 0-3; partition 4 only where a defect puts it
BASE_MS = 1707519600000            # 2024-02-09T23:00:00Z; 10 s per offset crosses midnight at offset 360

DEFECTS = {
    # Spark-style (left): two missing ranges, a changed payload, a data file committed twice,
    # and partition 4, which the Flink table lacks entirely.
    "left_missing": {0: [(100, 149)], 2: [(500, 519)]},
    "left_changed": {1: [42]},
    "left_twice": (3, 590, 599),   # partition, offsets: a file appended, then appended again
    "left_only_partition": (4, 0, 49),
    # Flink-style (right): two missing ranges, duplicated offsets (a second append of the same rows).
    "right_missing": {1: [(200, 249)], 3: [(0, 9)]},
    "right_duplicated": (2, 300, 304),
}


def payload(partition, offset, changed=False):
    body = f"trade p{partition} o{offset} price 42150.{offset % 100:02d} ".encode() * 3
    return b"\x00\x00\x00\x00\x07" + body + (b" CHANGED" if changed else b"")


def records(partition, first, last, skip=(), changed=()):
    rows = []
    for offset in range(first, last + 1):
        if any(a <= offset <= b for a, b in skip):
            continue
        ts_ms = BASE_MS + offset * 10_000 + partition
        ingest_ms = ts_ms + 1_500
        rows.append(dict(raw_bytes=payload(partition, offset, offset in changed), topic=TOPIC, partition=partition,
                         offset=offset, kafka_ts_ms=ts_ms, ingest_ms=ingest_ms))
    return rows


def arrow(rows, spark_style):
    utc = dt.timezone.utc
    if spark_style:
        ts_type = pa.timestamp("us", tz="UTC")
        to_ts = lambda ms: dt.datetime.fromtimestamp(ms / 1000, tz=utc)
    else:
        ts_type = pa.timestamp("us")   # Iceberg `timestamp`; Flink writes millisecond values
        to_ts = lambda ms: dt.datetime.fromtimestamp(ms / 1000, tz=utc).replace(tzinfo=None)
    nullable = spark_style
    schema = pa.schema([
        pa.field("raw_bytes", pa.binary(), nullable=nullable),
        pa.field("topic", pa.string(), nullable=nullable),
        pa.field("partition", pa.int32(), nullable=nullable),
        pa.field("offset", pa.int64(), nullable=nullable),
        pa.field("kafka_timestamp", ts_type, nullable=nullable),
        pa.field("ingestion_timestamp", ts_type, nullable=nullable),
        pa.field("ingestion_date", pa.date32(), nullable=nullable),
    ])
    return pa.Table.from_pylist([dict(
        raw_bytes=r["raw_bytes"], topic=r["topic"], partition=r["partition"], offset=r["offset"],
        kafka_timestamp=to_ts(r["kafka_ts_ms"]), ingestion_timestamp=to_ts(r["ingest_ms"]),
        ingestion_date=dt.datetime.fromtimestamp(r["ingest_ms"] / 1000, tz=utc).date()) for r in rows], schema=schema)


def iceberg_schema(spark_style):
    required = not spark_style
    ts = TimestamptzType() if spark_style else TimestampType()
    return Schema(
        NestedField(1, "raw_bytes", BinaryType(), required=required),
        NestedField(2, "topic", StringType(), required=required),
        NestedField(3, "partition", IntegerType(), required=required),
        NestedField(4, "offset", LongType(), required=required),
        NestedField(5, "kafka_timestamp", ts, required=required),
        NestedField(6, "ingestion_timestamp", ts, required=required),
        NestedField(7, "ingestion_date", DateType(), required=required),
    )


def main():
    out, scenario = sys.argv[1], sys.argv[2]
    defects = scenario == "defects"
    os.makedirs(os.path.join(out, "warehouse"), exist_ok=True)
    catalog_uri = sys.argv[3] if len(sys.argv) > 3 else f"sqlite:///{os.path.join(out, 'catalog.db')}"
    catalog = SqlCatalog("k2", uri=catalog_uri,
                         warehouse=f"file://{os.path.join(out, 'warehouse')}")
    catalog.create_namespace("market_data")
    spark = catalog.create_table(
        "market_data.bronze_binance_trades", schema=iceberg_schema(True),
        partition_spec=PartitionSpec(PartitionField(7, 1000, DayTransform(), "ingestion_date_day")),
        properties={"write.format.default": "parquet", "write.parquet.compression-codec": "zstd",
                    "write.target-file-size-bytes": "134217728"})
    flink = catalog.create_table(
        "market_data.bronze_binance_trades_flink", schema=iceberg_schema(False),
        partition_spec=PartitionSpec(PartitionField(7, 1000, IdentityTransform(), "ingestion_date")),
        properties={"write.format.default": "parquet", "write.parquet.compression-codec": "snappy",
                    "write.metadata.compression-codec": "gzip", "write.metadata.previous-versions-max": "5"})

    result = {"left_snapshots": [], "right_snapshots": []}
    # Four micro-batches of 150 offsets per partition, like streaming commits; each holds every partition.
    for batch in range(4):
        first, last = batch * 150, batch * 150 + 149
        left_rows, right_rows = [], []
        for partition in range(4):
            skip_left = DEFECTS["left_missing"].get(partition, []) if defects else []
            skip_right = DEFECTS["right_missing"].get(partition, []) if defects else []
            if defects and partition == DEFECTS["left_twice"][0]:
                skip_left = skip_left + [DEFECTS["left_twice"][1:]]   # appended on its own below
            changed = DEFECTS["left_changed"].get(partition, []) if defects else []
            left_rows += records(partition, first, last, skip_left, changed)
            right_rows += records(partition, first, last, skip_right)
        if defects and batch == 0:
            p, a, b = DEFECTS["left_only_partition"]
            left_rows += records(p, a, b)
        spark.append(arrow(left_rows, True), snapshot_properties={
            "spark.sql.streaming.queryId": "9b3c7f4e-5d21-4c8e-a1f0-2f6d8e0b7c11", "spark.sql.streaming.epochId": str(batch)})
        flink.append(arrow(right_rows, False), snapshot_properties={
            "flink.job-id": "f3a9c2d1e8b7465a9c0d1e2f3a4b5c6d", "flink.operator-id": "e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0",
            "flink.max-committed-checkpoint-id": str(batch + 1)})
        result["left_snapshots"].append(spark.current_snapshot().snapshot_id)
        result["right_snapshots"].append(flink.current_snapshot().snapshot_id)

    if defects:
        p, a, b = DEFECTS["left_twice"]
        spark.append(arrow(records(p, a, b), True), snapshot_properties={"spark.sql.streaming.epochId": "4"})
        snapshot = spark.current_snapshot()
        added = [e.data_file for m in snapshot.manifests(spark.io) if m.added_snapshot_id == snapshot.snapshot_id
                 for e in m.fetch_manifest_entry(spark.io)]
        assert len(added) == 1, added
        # The duplicate commit: the same data file appended by a second snapshot.
        with spark.transaction() as tx:
            with tx.update_snapshot(snapshot_properties={"spark.sql.streaming.epochId": "5"}).fast_append() as append:
                append.append_data_file(added[0])
        spark = catalog.load_table("market_data.bronze_binance_trades")
        result["twice_file"] = added[0].file_path
        result["twice_snapshots"] = [snapshot.snapshot_id, spark.current_snapshot().snapshot_id]
        p, a, b = DEFECTS["right_duplicated"]
        flink.append(arrow(records(p, a, b), False), snapshot_properties={"flink.max-committed-checkpoint-id": "5"})
        flink = catalog.load_table("market_data.bronze_binance_trades_flink")
        result["left_snapshots"] += result["twice_snapshots"]
        result["right_snapshots"].append(flink.current_snapshot().snapshot_id)

    # pyiceberg 0.12's SQL catalog writes plain JSON whatever write.metadata.compression-codec says; Java
    # Iceberg (Flink) writes NNNNN-uuid.gz.metadata.json. Do what Java does for the Flink table's current
    # metadata and point the catalog at it, then check that pyiceberg still loads it.
    plain = flink.metadata_location[len("file://"):]
    gz = plain[: -len(".metadata.json")] + ".gz.metadata.json"
    with open(plain, "rb") as source, gzip.open(gz, "wb") as target:
        target.write(source.read())
    os.remove(plain)
    with catalog.engine.begin() as db:
        db.execute(sqlalchemy.text("UPDATE iceberg_tables SET metadata_location = :location WHERE table_name = :name"),
                   {"location": "file://" + gz, "name": "bronze_binance_trades_flink"})
    flink = catalog.load_table("market_data.bronze_binance_trades_flink")
    assert flink.metadata_location.endswith(".gz.metadata.json")

    result["left_total_records"] = int(spark.current_snapshot().summary["total-records"])
    result["right_total_records"] = int(flink.current_snapshot().summary["total-records"])
    result["right_metadata"] = flink.metadata_location
    print(json.dumps(result))


if __name__ == "__main__":
    main()
