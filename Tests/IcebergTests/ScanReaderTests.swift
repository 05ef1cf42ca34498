import Avro
import Foundation
@testable import Iceberg
import Parquet
import TestSupport
import XCTest

/// Rows read through TableScan + ScanReader equal what pyiceberg/pyarrow read from the same tables.
final class ScanReaderTests: LocalWarehouseTestCase {
    /// (partition, offset or -1 for null, raw_bytes as hex) of every row, sorted.
    func readRows(_ table: Table, filters: [ColumnRange] = []) async throws -> [String] {
        let reader = try ScanReader(table: table)
        var rows: [String] = []
        for task in try await TableScan(table: table, filters: filters).planFiles() {
            let cols = try await reader.read(task, columns: ["partition", "offset", "raw_bytes"], filters: filters)
            guard case .int32(let partitions) = cols[0].values, case .int64(let offsets) = cols[1].values,
                  case .byteArray(let raws) = cols[2].values else { XCTFail("unexpected column types"); return [] }
            XCTAssertNil(cols[0].validity)
            var o = 0
            for i in 0..<cols[0].rowCount {
                var offset: Int64 = -1
                if cols[1].validity?[i] ?? true { offset = offsets[o]; o += 1 }
                rows.append("\(partitions[i]) \(offset) \(raws[i].map { String(format: "%02x", $0) }.joined())")
            }
        }
        return rows.sorted()
    }

    static let pythonDump = """
        def dump(t, row_filter=None):
            a = t.scan(row_filter=row_filter).to_arrow() if row_filter else t.scan().to_arrow()
            return sorted(f"{p} {-1 if o is None else o} {r.hex()}" for p, o, r in zip(a.column("partition").to_pylist(),
                          a.column("offset").to_pylist(), a.column("raw_bytes").to_pylist()))
        """

    func testOurReaderMatchesPyicebergOnPyicebergTablesAndAddedFiles() async throws {
        let out = try BronzeFixtures.pyiceberg(Self.pythonDump + "\n" + """
            from pyiceberg.schema import Schema
            from pyiceberg.types import NestedField, BinaryType, StringType, IntegerType, LongType, TimestampType, TimestamptzType, DateType
            from pyiceberg.partitioning import PartitionSpec, PartitionField
            from pyiceberg.transforms import DayTransform, IdentityTransform
            import pyarrow.parquet as pq, os
            cat.create_namespace("market_data")
            def schema(required, ts):
                return Schema(*[NestedField(i + 1, n, t, required=required) for i, (n, t) in enumerate([
                    ("raw_bytes", BinaryType()), ("topic", StringType()), ("partition", IntegerType()), ("offset", LongType()),
                    ("kafka_timestamp", ts), ("ingestion_timestamp", ts), ("ingestion_date", DateType())])])
            spark = cat.create_table("market_data.spark", schema(False, TimestamptzType()),
                partition_spec=PartitionSpec(PartitionField(7, 1000, DayTransform(), "ingestion_date_day")),
                properties={"write.parquet.compression-codec": "zstd"})
            flink = cat.create_table("market_data.flink", schema(True, TimestampType()),
                partition_spec=PartitionSpec(PartitionField(7, 1000, IdentityTransform(), "ingestion_date")),
                properties={"write.parquet.compression-codec": "snappy"})
            for t in (spark, flink):
                s = t.schema().as_arrow()
                t.append(pa.concat_tables([table(0, 0, 700, 0, s), table(1, 0, 300, 0, s)]))
                t.append(table(0, 700, 300, 1, s))
            # Files without field ids, registered with add_files: read through schema.name-mapping.default.
            added = cat.create_table("market_data.added", schema(False, TimestamptzType()),
                partition_spec=PartitionSpec(PartitionField(7, 1000, DayTransform(), "ingestion_date_day")))
            paths = []
            for k, (p, first, n, day) in enumerate([(0, 0, 400, 0), (2, 100, 250, 1)]):
                path = os.path.join(sys.argv[3], f"added-{k}.parquet")
                pq.write_table(table(p, first, n, day, arrow_schema(ids=False)), path, compression="snappy")
                paths.append("file://" + path)
            added.add_files(paths)
            res = {}
            for name in ("spark", "flink", "added"):
                t = cat.load_table("market_data." + name)
                res[name] = {"all": dump(t), "ge": dump(t, "offset >= 650"), "mapping": "schema.name-mapping.default" in t.properties}
            print(json.dumps(res))
            """, database: database, warehouse: warehouse, args: [directory.path])
        let expected = try JSONValue.parse(out)
        let catalog = try await SQLCatalog.open(connection: try SQLiteConnection(path: database), name: nil,
                                                warehouse: warehouse, io: LocalFileIO())
        for name in ["spark", "flink", "added"] {
            let table = try await catalog.loadTable(TableIdentifier(namespace: ["market_data"], name: name))
            let all = try await readRows(table)
            XCTAssertEqual(all, expected[name]?["all"]?.arrayValue?.compactMap(\.stringValue), name)
            XCTAssertGreaterThan(all.count, 600)
            // Our pruning keeps at least every matching row; filtering rows is the caller's job.
            let filtered = try await readRows(table, filters: [ColumnRange(column: "offset", lower: .long(650))])
                .filter { Int64($0.split(separator: " ")[1])! >= 650 }
            XCTAssertEqual(filtered, expected[name]?["ge"]?.arrayValue?.compactMap(\.stringValue), name)
        }
        XCTAssertEqual(expected["added"]?["mapping"], .bool(true))
    }

    func testOurWrittenRowsReadBackThroughOurReader() async throws {
        let catalog = try await SQLCatalog.open(connection: try SQLiteConnection(path: database), name: "k2",
                                                warehouse: warehouse, io: LocalFileIO())
        try await catalog.createNamespace(["market_data"], properties: [:])
        var props = BronzeFixtures.sparkProperties
        props["write.target-file-size-bytes"] = "20000"
        var table = try await catalog.createTable(TableIdentifier(namespace: ["market_data"], name: "t"),
                                                  schema: BronzeFixtures.sparkSchema(), spec: BronzeFixtures.sparkSpec,
                                                  sortOrder: .unsorted, properties: props, location: nil)
        let writer = try DataFileWriter(table: table)
        try await writer.write(DataFileWriterTests.batch(partition: 3, offsets: 0..<2500, day: 0, nullableOffsets: true),
                               partition: [.date(BronzeFixtures.baseDay)])
        table = try await FastAppend(catalog: catalog).commit(table: table, files: try await writer.finish())
        let rows = try await readRows(table)
        let expected = (Int64(0)..<2500).map { o in
            "3 \(o % 10 == 3 ? -1 : o) \(DataFileWriterTests.raw(3, o).map { String(format: "%02x", $0) }.joined())"
        }.sorted()
        XCTAssertEqual(rows, expected)
    }

    /// `readRowGroups` hands over what `read` returns, one row group at a time; a uniform string column
    /// comes back as a constant, and ranges skip row groups by their statistics.
    func testRowGroupsStreamWhatReadReturns() async throws {
        let catalog = try await SQLCatalog.open(connection: try SQLiteConnection(path: database), name: "k2",
                                                warehouse: warehouse, io: LocalFileIO())
        try await catalog.createNamespace(["market_data"], properties: [:])
        var props = BronzeFixtures.sparkProperties
        props["write.parquet.row-group-size-bytes"] = "8192"
        var table = try await catalog.createTable(TableIdentifier(namespace: ["market_data"], name: "t"),
                                                  schema: BronzeFixtures.sparkSchema(), spec: BronzeFixtures.sparkSpec,
                                                  sortOrder: .unsorted, properties: props, location: nil)
        let writer = try DataFileWriter(table: table)
        // Row groups are cut between writes of up to 4096 rows, once they reach the size.
        for first in stride(from: Int64(0), to: 2500, by: 250) {
            try await writer.write(DataFileWriterTests.batch(partition: 3, offsets: first..<first + 250, day: 0, nullableOffsets: true),
                                   partition: [.date(BronzeFixtures.baseDay)])
        }
        table = try await FastAppend(catalog: catalog).commit(table: table, files: try await writer.finish())
        let tasks = try await TableScan(table: table).planFiles()
        let task = try XCTUnwrap(tasks.first)
        let reader = try ScanReader(table: table)
        let whole = try await reader.read(task, columns: ["offset", "kafka_timestamp"])
        let schema = table.metadata.currentSchema
        let fields = try ["topic", "offset", "kafka_timestamp"].map { try XCTUnwrap(schema.field(named: $0)) }

        var batches = 0, rows = 0
        var offsets: [Int64] = [], validity: [Bool] = [], timestamps: [Int64] = []
        try await reader.readRowGroups(task, fields: fields, uniform: [fields[0].id]) { batch in
            batches += 1
            rows += batch.rowCount
            guard case .constant(.string("binance.trades")?) = batch.columns[0] else { return XCTFail("topic not uniform: \(batch.columns[0])") }
            guard case .values(let o) = batch.columns[1], case .int64(let values) = o.values,
                  case .values(let t) = batch.columns[2], case .int64(let times) = t.values else { return XCTFail("unexpected columns") }
            XCTAssertEqual(o.rowCount, batch.rowCount)
            offsets += values
            validity += o.validity ?? Array(repeating: true, count: o.rowCount)
            timestamps += times
        }
        XCTAssertGreaterThan(batches, 2, "the table property asks for small row groups")
        XCTAssertEqual(rows, 2500)
        guard case .int64(let wholeOffsets) = whole[0].values, case .int64(let wholeTimes) = whole[1].values else { return XCTFail() }
        XCTAssertEqual(offsets, wholeOffsets)
        XCTAssertEqual(validity, whole[0].validity)
        XCTAssertEqual(timestamps, wholeTimes)

        // A range on kafka_timestamp keeps only the row groups that may hold it.
        let range = ColumnRange(column: "kafka_timestamp", lower: .timestamptz(BronzeFixtures.baseMicros + 2000 * 1000),
                                upper: .timestamptz(BronzeFixtures.baseMicros + 2100 * 1000))
        var kept: [Int64] = []
        try await reader.readRowGroups(task, fields: [fields[2]], filters: [range]) { batch in
            guard case .values(let t) = batch.columns[0], case .int64(let times) = t.values else { return XCTFail() }
            kept += times
        }
        XCTAssertLessThan(kept.count, 2500)
        XCTAssertTrue(kept.contains(BronzeFixtures.baseMicros + 2000 * 1000) && kept.contains(BronzeFixtures.baseMicros + 2100 * 1000))
        XCTAssertFalse(kept.contains(BronzeFixtures.baseMicros))
    }

    func testMissingDataFileNamesTheFile() async throws {
        let catalog = try await SQLCatalog.open(connection: try SQLiteConnection(path: database), name: "k2",
                                                warehouse: warehouse, io: LocalFileIO())
        try await catalog.createNamespace(["market_data"], properties: [:])
        var table = try await catalog.createTable(TableIdentifier(namespace: ["market_data"], name: "t"),
                                                  schema: BronzeFixtures.sparkSchema(), spec: BronzeFixtures.sparkSpec,
                                                  sortOrder: .unsorted, properties: BronzeFixtures.sparkProperties, location: nil)
        let writer = try DataFileWriter(table: table)
        try await writer.write(DataFileWriterTests.batch(partition: 0, offsets: 0..<10, day: 0, nullableOffsets: false),
                               partition: [.date(BronzeFixtures.baseDay)])
        let files = try await writer.finish()
        table = try await FastAppend(catalog: catalog).commit(table: table, files: files)
        try await LocalFileIO().delete(files[0].filePath)
        let task = try await TableScan(table: table).planFiles()[0]
        do {
            _ = try await ScanReader(table: table).read(task, columns: ["offset"])
            XCTFail("a missing data file must be an error")
        } catch {
            XCTAssertTrue("\(error)".hasPrefix(files[0].filePath + ": data file of table market_data.t cannot be read"), "\(error)")
        }
    }
}
