import Avro
import Foundation
@testable import Iceberg
import Parquet
import TestSupport
import XCTest

/// Rows written through `DataFileWriter` and committed with `FastAppend` are read back exactly by
/// pyiceberg, and the file metrics we record agree with what pyarrow finds in the files.
final class DataFileWriterTests: LocalWarehouseTestCase {
    /// The same formula as `raw(p, o)` in BronzeFixtures.pythonRows.
    static func raw(_ p: Int32, _ o: Int64) -> [UInt8] {
        [0, 0, 0, 0, 1] + Array("trade-\(p)-\(o)".utf8) + [UInt8](repeating: UInt8((o * 7 + Int64(p)) & 0xFF), count: Int(o % 5))
    }

    /// Bronze rows of one Kafka partition and ingestion day, column-oriented; every 10th offset is null
    /// when `nullableOffsets`, to exercise optional columns.
    static func batch(partition p: Int32, offsets: Range<Int64>, day: Int32, nullableOffsets: Bool) -> [ColumnData] {
        let offs = Array(offsets)
        let validity = nullableOffsets ? offs.map { $0 % 10 != 3 } : nil
        let offsetValues = nullableOffsets ? offs.filter { $0 % 10 != 3 } : offs
        return [
            ColumnData(.byteArray(ByteArrayValues(offs.map { raw(p, $0) }))),
            ColumnData(.byteArray(ByteArrayValues(strings: offs.map { _ in "binance.trades" }))),
            ColumnData(.int32(offs.map { _ in p })),
            ColumnData(.int64(offsetValues), validity: validity),
            ColumnData(.int64(offs.map { BronzeFixtures.baseMicros + $0 * 1000 })),
            ColumnData(.int64(offs.map { BronzeFixtures.baseMicros + Int64(day) * 86_400_000_000 + $0 })),
            ColumnData(.int32(offs.map { _ in BronzeFixtures.baseDay + day })),
        ]
    }

    func testWrittenRowsReadBackExactlyByPyiceberg() async throws {
        let catalog = try await SQLCatalog.open(connection: try SQLiteConnection(path: database), name: "k2",
                                                warehouse: warehouse, io: LocalFileIO())
        try await catalog.createNamespace(["market_data"], properties: [:])
        var props = BronzeFixtures.sparkProperties
        props["write.target-file-size-bytes"] = "30000"  // small, so files roll
        var table = try await catalog.createTable(TableIdentifier(namespace: ["market_data"], name: "bronze_binance_trades"),
                                                  schema: BronzeFixtures.sparkSchema(), spec: BronzeFixtures.sparkSpec,
                                                  sortOrder: .unsorted, properties: props, location: nil)
        let writer = try DataFileWriter(table: table)
        for start in stride(from: Int64(0), to: 6000, by: 1000) {
            try await writer.write(Self.batch(partition: 0, offsets: start..<start + 1000, day: 0, nullableOffsets: true),
                                   partition: [.date(BronzeFixtures.baseDay)])
            try await writer.write(Self.batch(partition: 1, offsets: start..<start + 500, day: 1, nullableOffsets: false),
                                   partition: [.date(BronzeFixtures.baseDay + 1)])
        }
        let files = try await writer.finish()
        XCTAssertGreaterThan(files.count, 2, "files must roll at the target size")
        XCTAssertEqual(files.map(\.recordCount).reduce(0, +), 6000 + 3000)
        table = try await FastAppend(catalog: catalog).commit(table: table, files: files, summary: ["k2.replay.run-id": "r1"])

        let out = try BronzeFixtures.pyiceberg("""
            import pyarrow.parquet as pq
            t = cat.load_table("market_data.bronze_binance_trades")
            a = t.scan().to_arrow()
            got = sorted(zip(a.column("partition").to_pylist(), a.column("ingestion_timestamp").to_pylist(),
                             a.column("offset").to_pylist(), a.column("raw_bytes").to_pylist(), a.column("topic").to_pylist(),
                             a.column("kafka_timestamp").to_pylist(), a.column("ingestion_date").to_pylist()))
            want = []
            for s in range(0, 6000, 1000):
                want += [(0, o, None if o % 10 == 3 else o, raw(0, o), BASE_DAY) for o in range(s, s + 1000)]
                want += [(1, o, o, raw(1, o), BASE_DAY + datetime.timedelta(days=1)) for o in range(s, s + 500)]
            want.sort()
            assert len(got) == len(want), (len(got), len(want))
            for g, w in zip(got, want):
                assert (g[0], g[2], g[3], g[4], g[6]) == (w[0], w[2], w[3], "binance.trades", w[4]), (g, w)
                assert int(g[5].timestamp() * 1000000) == BASE_US + w[1] * 1000
            # Our recorded metrics against the files themselves (pyarrow's footer statistics).
            checked = 0
            for task in t.scan().plan_files():
                f = task.file
                md = pq.ParquetFile(f.file_path[len("file://"):]).metadata
                assert md.num_rows == f.record_count
                assert md.schema.to_arrow_schema().field("offset").metadata[b"PARQUET:field_id"] == b"4"
                col = md.schema.names.index("offset")
                lo = min(md.row_group(i).column(col).statistics.min for i in range(md.num_row_groups))
                hi = max(md.row_group(i).column(col).statistics.max for i in range(md.num_row_groups))
                nulls = sum(md.row_group(i).column(col).statistics.null_count for i in range(md.num_row_groups))
                assert int.from_bytes(f.lower_bounds[4], "little", signed=True) == lo
                assert int.from_bytes(f.upper_bounds[4], "little", signed=True) == hi
                assert f.null_value_counts[4] == nulls and f.value_counts[4] == md.num_rows
                assert f.lower_bounds[1] == min(raw(p, o) for p, o in [(0, 0)]) or len(f.lower_bounds[1]) <= 16
                assert md.row_group(0).column(0).compression == "ZSTD"
                checked += 1
            # duckdb, a third reader, over the same data files.
            import duckdb
            paths = [task.file.file_path[len("file://"):] for task in t.scan().plan_files()]
            dd = duckdb.sql(f'SELECT "partition", "offset", raw_bytes FROM read_parquet({paths!r})').fetchall()
            assert sorted((p, -1 if o is None else o, bytes(r)) for p, o, r in dd) == sorted((w[0], -1 if w[2] is None else w[2], w[3]) for w in want)
            pruned = t.scan(row_filter="offset >= 5500").plan_files()
            snap = t.current_snapshot()
            print(json.dumps({"rows": len(got), "checked": checked, "pruned_rows": sum(p.file.record_count for p in pruned),
                              "total": snap.summary["total-records"], "run": snap.summary["k2.replay.run-id"]}))
            """, database: database, warehouse: warehouse)
        let json = try JSONValue.parse(out)
        XCTAssertEqual(json["rows"], .int(9000))
        XCTAssertEqual(json["checked"]?.intValue, files.count)
        XCTAssertEqual(json["total"], .string("9000"))
        XCTAssertEqual(json["run"], .string("r1"))
        // Only the files of partition 0 holding offsets ≥ 5500 remain after pruning by our bounds.
        let expectedPruned = files.filter { f in
            guard let hi = f.upperBounds[4] else { return true }
            return (try? IcebergValue(singleValue: hi, type: .long)).map { IcebergValue.compare($0, .long(5500))! >= 0 } ?? true
        }.map(\.recordCount).reduce(0, +)
        XCTAssertEqual(json["pruned_rows"]?.int64Value, expectedPruned)
        XCTAssertLessThan(expectedPruned, 9000)
    }

    func testBoundsAreTruncatedToStayBounds() {
        let long = Array(repeating: UInt8(ascii: "a"), count: 20) + [0xFF]
        XCTAssertEqual(DataFileWriter.lowerBound(long, type: .binary), Array(long.prefix(16)))
        XCTAssertEqual(DataFileWriter.upperBound(long, type: .binary), Array(repeating: UInt8(ascii: "a"), count: 15) + [UInt8(ascii: "b")])
        XCTAssertNil(DataFileWriter.upperBound([UInt8](repeating: 0xFF, count: 20), type: .binary))
        XCTAssertEqual(DataFileWriter.upperBound(Array("short".utf8), type: .string), Array("short".utf8))
        XCTAssertEqual(DataFileWriter.upperBound(Array("abcdefghijklmnopqrst".utf8), type: .string), Array("abcdefghijklmnoq".utf8))
    }
}
