import Avro
import Foundation
@testable import Iceberg
import TestSupport
import XCTest

/// Tables we write are read by pyiceberg through the same SQLite catalog, and the other way round.
final class PyicebergInteropTests: LocalWarehouseTestCase {
    func openCatalog(name: String? = "k2") async throws -> SQLCatalog {
        try await SQLCatalog.open(connection: try SQLiteConnection(path: database), name: name, warehouse: warehouse, io: LocalFileIO())
    }

    func testPyicebergReadsEveryRowOfOurAppends() async throws {
        let catalog = try await openCatalog()
        try await catalog.createNamespace(["market_data"], properties: [:])
        let id = TableIdentifier(namespace: ["market_data"], name: "bronze_binance_trades")
        var table = try await catalog.createTable(id, schema: BronzeFixtures.sparkSchema(), spec: BronzeFixtures.sparkSpec,
                                                  sortOrder: .unsorted, properties: BronzeFixtures.sparkProperties, location: nil)
        let files = try BronzeFixtures.writeParquetFiles([
            .init(partition: 0, first: 0, count: 300, day: 0),
            .init(partition: 1, first: 0, count: 250, day: 0),
            .init(partition: 0, first: 300, count: 200, day: 1),
        ], directory: directory)
        let append = FastAppend(catalog: catalog)
        table = try await append.commit(table: table, files: Array(files[0..<2]),
                                        summary: ["spark.sql.streaming.queryId": "q-1", "spark.sql.streaming.epochId": "7"])
        table = try await append.commit(table: table, files: [files[2]], summary: ["spark.sql.streaming.epochId": "8"])
        XCTAssertEqual(table.metadata.snapshots.count, 2)
        XCTAssertEqual(table.metadata.currentSnapshot?.summary["total-records"], "750")

        let out = try BronzeFixtures.pyiceberg("""
            t = cat.load_table("market_data.bronze_binance_trades")
            a = t.scan().to_arrow()
            got = sorted(zip(a.column("partition").to_pylist(), a.column("offset").to_pylist(), a.column("raw_bytes").to_pylist(),
                             a.column("kafka_timestamp").to_pylist(), a.column("ingestion_date").to_pylist()))
            want = sorted([(0, o, raw(0, o)) for o in range(0, 500)] + [(1, o, raw(1, o)) for o in range(0, 250)])
            assert [g[:3] for g in got] == want, "rows differ"
            for g in got:
                assert int(g[3].timestamp() * 1000000) == BASE_US + g[1] * 1000, g
            snaps = t.snapshots()
            s1, s2 = snaps[0].summary, snaps[1].summary
            assert s1["spark.sql.streaming.epochId"] == "7" and s1["spark.sql.streaming.queryId"] == "q-1"
            assert s2["spark.sql.streaming.epochId"] == "8"
            assert snaps[1].parent_snapshot_id == snaps[0].snapshot_id
            assert snaps[0].sequence_number == 1 and snaps[1].sequence_number == 2
            pruned = t.scan(row_filter="offset >= 400").plan_files()
            day1 = t.scan(row_filter="ingestion_date = '2025-11-26'").plan_files()
            print(json.dumps({"rows": len(got), "total": s2["total-records"], "files": int(s2["total-data-files"]),
                              "added": s2["added-records"], "op": s2["operation"].value,
                              "pruned": [f.file.record_count for f in pruned], "day1": [f.file.record_count for f in day1],
                              "spec": str(t.spec()), "codec": t.properties["write.parquet.compression-codec"]}))
            """, database: database, warehouse: warehouse)
        let json = try JSONValue.parse(out)
        XCTAssertEqual(json["rows"], .int(750))
        XCTAssertEqual(json["total"], .string("750"))
        XCTAssertEqual(json["files"], .int(3))
        XCTAssertEqual(json["added"], .string("200"))
        XCTAssertEqual(json["op"], .string("append"))
        // Our offset bounds let pyiceberg skip the files whose offsets end below 400.
        XCTAssertEqual(json["pruned"], .array([.int(200)]))
        XCTAssertEqual(json["day1"], .array([.int(200)]))
        XCTAssertEqual(json["codec"], .string("zstd"))

        // And pyiceberg can append on top of our snapshots; we see its snapshot after ours.
        _ = try BronzeFixtures.pyiceberg("""
            t = cat.load_table("market_data.bronze_binance_trades")
            t.append(table(1, 250, 50, 1, schema=t.schema().as_arrow()))
            print("ok")
            """, database: database, warehouse: warehouse)
        let reloaded = try await catalog.loadTable(id)
        XCTAssertEqual(reloaded.metadata.snapshots.count, 3)
        XCTAssertEqual(reloaded.metadata.currentSnapshot?.parentSnapshotId, table.metadata.currentSnapshotId)
        let tasks = try await TableScan(table: reloaded).planFiles()
        XCTAssertEqual(tasks.map(\.dataFile.recordCount).reduce(0, +), 800)
        XCTAssertEqual(tasks.count, 4)
    }

    func testWeLoadAndPlanPyicebergTables() async throws {
        let out = try BronzeFixtures.pyiceberg("""
            from pyiceberg.schema import Schema
            from pyiceberg.types import NestedField, BinaryType, StringType, IntegerType, LongType, TimestamptzType, TimestampType, DateType
            from pyiceberg.partitioning import PartitionSpec, PartitionField
            from pyiceberg.transforms import DayTransform, IdentityTransform
            cat.create_namespace("market_data")
            def schema(required, ts):
                return Schema(NestedField(1, "raw_bytes", BinaryType(), required=required), NestedField(2, "topic", StringType(), required=required),
                              NestedField(3, "partition", IntegerType(), required=required), NestedField(4, "offset", LongType(), required=required),
                              NestedField(5, "kafka_timestamp", ts, required=required), NestedField(6, "ingestion_timestamp", ts, required=required),
                              NestedField(7, "ingestion_date", DateType(), required=required))
            spark = cat.create_table("market_data.bronze_binance_trades", schema(False, TimestamptzType()),
                partition_spec=PartitionSpec(PartitionField(7, 1000, DayTransform(), "ingestion_date_day")),
                properties={"write.parquet.compression-codec": "zstd", "write.target-file-size-bytes": "134217728"})
            flink = cat.create_table("market_data.bronze_binance_trades_flink", schema(True, TimestampType()),
                partition_spec=PartitionSpec(PartitionField(7, 1000, IdentityTransform(), "ingestion_date")),
                properties={"write.parquet.compression-codec": "snappy", "write.metadata.compression-codec": "gzip",
                            "write.metadata.previous-versions-max": "5"})
            import pyarrow as pa
            for t in (spark, flink):
                s = t.schema().as_arrow()
                t.append(pa.concat_tables([table(0, 0, 120, 0, s), table(1, 0, 80, 0, s)]))
                t.append(table(0, 120, 60, 1, s))
            for i in range(6):
                flink.append(table(2, i * 10, 10, 2, flink.schema().as_arrow()))
            # pyiceberg writes plain JSON; publish a gzip copy of the Flink table's metadata under Java's name,
            # as Flink with write.metadata.compression-codec=gzip would, and point the catalog at it.
            import gzip, sqlite3, os
            loc = cat.load_table(flink.name()).metadata_location
            gz = loc[:-len(".metadata.json")] + ".gz.metadata.json"
            with open(loc[len("file://"):], "rb") as src, open(gz[len("file://"):], "wb") as dst:
                dst.write(gzip.compress(src.read()))
            db = sqlite3.connect(sys.argv[1])
            db.execute("UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? WHERE table_name = ?",
                       (gz, loc, "bronze_binance_trades_flink"))
            db.commit()
            res = {}
            for name, t in (("spark", spark), ("flink", flink)):
                t = cat.load_table(t.name())
                res[name] = {
                    "location": t.metadata_location,
                    "files": sorted([[f.file.file_path, f.file.record_count, [str(v) for v in f.file.partition]] for f in t.scan().plan_files()]),
                    "first": t.snapshots()[0].snapshot_id, "first_ts": t.snapshots()[0].timestamp_ms,
                    "first_files": sorted([f.file.file_path for f in t.scan(snapshot_id=t.snapshots()[0].snapshot_id).plan_files()]),
                    "offset_ge_150": sorted([f.file.file_path for f in t.scan(row_filter="offset >= 150").plan_files()]),
                    "total": t.current_snapshot().summary["total-records"], "metadata_log": len(t.metadata.metadata_log),
                }
            print(json.dumps(res))
            """, database: database, warehouse: warehouse)
        let expected = try JSONValue.parse(out)
        let catalog = try await openCatalog(name: nil)  // the one name in the database
        XCTAssertEqual(catalog.name, "k2")
        let tables = try await catalog.listTables(namespace: ["market_data"])
        XCTAssertEqual(tables.map(\.name), ["bronze_binance_trades", "bronze_binance_trades_flink"])
        for (key, name) in [("spark", "bronze_binance_trades"), ("flink", "bronze_binance_trades_flink")] {
            let e = expected[key]!
            let table = try await catalog.loadTable(TableIdentifier(namespace: ["market_data"], name: name))
            XCTAssertEqual(table.metadataLocation, e["location"]?.stringValue)
            if key == "flink" {
                XCTAssertTrue(table.metadataLocation.hasSuffix(".gz.metadata.json"), table.metadataLocation)
                XCTAssertEqual(table.metadata.currentSchema.fields.map(\.required), Array(repeating: true, count: 7))
                XCTAssertEqual(table.metadata.currentSchema.field(named: "kafka_timestamp")?.type, .timestamp)
                XCTAssertEqual(table.metadata.defaultSpec.fields.first?.transform, .identity)
                XCTAssertLessThanOrEqual(table.metadata.metadataLog.count, 5)
            } else {
                XCTAssertEqual(table.metadata.currentSchema.field(named: "kafka_timestamp")?.type, .timestamptz)
                XCTAssertEqual(table.metadata.defaultSpec.fields.first?.transform, .day)
            }
            XCTAssertEqual(table.metadata.metadataLog.count, e["metadata_log"]?.intValue)
            let tasks = try await TableScan(table: table).planFiles()
            let files: [JSONValue] = tasks.map { t in
                .array([.string(t.dataFile.filePath), .int(t.dataFile.recordCount),
                        .array(t.dataFile.partition.map { v -> JSONValue in
                            guard case .date(let d)? = v else { return .null }
                            return .int(Int64(d))
                        })])
            }.sorted { $0.serialized() < $1.serialized() }
            // pyiceberg prints partition dates as day numbers; compare paths, counts and day numbers.
            let expectedFiles = (e["files"]?.arrayValue ?? []).map { f -> JSONValue in
                let parts = f.arrayValue!
                return .array([parts[0], parts[1], .array(parts[2].arrayValue!.map { .int(Int64($0.stringValue!)!) })])
            }.sorted { $0.serialized() < $1.serialized() }
            XCTAssertEqual(JSONValue.array(files), JSONValue.array(expectedFiles), key)
            XCTAssertEqual(String(tasks.map(\.dataFile.recordCount).reduce(0, +)), e["total"]?.stringValue)

            let first = e["first"]!.int64Value!
            let byId = try await TableScan(table: table, snapshotId: first).planFiles()
            XCTAssertEqual(byId.map(\.dataFile.filePath).sorted(), e["first_files"]?.arrayValue?.compactMap(\.stringValue))
            let asOf = try await TableScan(table: table, asOfTimestampMs: e["first_ts"]!.int64Value!).planFiles()
            XCTAssertEqual(asOf.map(\.dataFile.filePath).sorted(), e["first_files"]?.arrayValue?.compactMap(\.stringValue))
            let pruned = try await TableScan(table: table, filters: [ColumnRange(column: "offset", lower: .long(150))]).planFiles()
            XCTAssertEqual(pruned.map(\.dataFile.filePath).sorted(), e["offset_ge_150"]?.arrayValue?.compactMap(\.stringValue), key)
        }
    }

    func testFormatV1TableFromPyiceberg() async throws {
        let out = try BronzeFixtures.pyiceberg("""
            cat.create_namespace("legacy")
            t = cat.create_table("legacy.v1", arrow_schema(), properties={"format-version": "1"})
            t.append(table(0, 0, 40, 0, t.schema().as_arrow()))
            t.append(table(1, 0, 25, 0, t.schema().as_arrow()))
            t = cat.load_table("legacy.v1")
            print(json.dumps({"version": t.format_version, "files": sorted(f.file.file_path for f in t.scan().plan_files())}))
            """, database: database, warehouse: warehouse)
        let json = try JSONValue.parse(out)
        XCTAssertEqual(json["version"], .int(1))
        let catalog = try await openCatalog(name: nil)
        let table = try await catalog.loadTable(TableIdentifier(namespace: ["legacy"], name: "v1"))
        XCTAssertEqual(table.metadata.formatVersion, 1)
        let tasks = try await TableScan(table: table).planFiles()
        XCTAssertEqual(tasks.map(\.dataFile.filePath).sorted(), json["files"]?.arrayValue?.compactMap(\.stringValue))
        XCTAssertEqual(tasks.map(\.dataFile.recordCount).reduce(0, +), 65)
        let offsets = try await ScanReader(table: table).read(tasks[0], columns: ["offset"])
        XCTAssertEqual(offsets[0].rowCount, Int(tasks[0].dataFile.recordCount))
    }

    func testOldMetadataIsDeletedWhenAskedAndLogIsTrimmed() async throws {
        let catalog = try await openCatalog()
        try await catalog.createNamespace(["market_data"], properties: [:])
        var table = try await catalog.createTable(
            TableIdentifier(namespace: ["market_data"], name: "trim"), schema: BronzeFixtures.sparkSchema(), spec: BronzeFixtures.sparkSpec,
            sortOrder: .unsorted, properties: ["write.metadata.previous-versions-max": "2", "write.metadata.delete-after-commit.enabled": "true"],
            location: nil)
        var locations = [table.metadataLocation]
        for n in 0..<4 {
            table = try await FastAppend(catalog: catalog).commit(table: table, files: [DataFile(
                filePath: "file:///nonexistent/f\(n).parquet", partition: [.date(BronzeFixtures.baseDay)], recordCount: 1, fileSizeInBytes: 10)])
            locations.append(table.metadataLocation)
        }
        XCTAssertEqual(table.metadata.metadataLog.map(\.metadataFile), Array(locations[2..<4]))
        let io = LocalFileIO()
        for (i, location) in locations.enumerated() {
            let exists = try await io.exists(location)
            XCTAssertEqual(exists, i >= 2, location)
        }
        XCTAssertTrue(locations[1].contains("/metadata/00001-"), locations[1])
    }
}
