import Codecs
import Foundation
import Parquet
import TestSupport
import XCTest

/// Files we write, read back by independent implementations (pyarrow, duckdb).
final class WriterInteropTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try TestEnvironment.temporaryDirectory("parquet-writer")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    private func write(_ table: SampleTable, options: ParquetWriterOptions, name: String, batchRows: Int = 700) throws -> (String, ParquetWriteResult) {
        let path = directory.appendingPathComponent(name).path
        let output = try ParquetFileOutput(path: path)
        let writer = try ParquetWriter(schema: table.schema, options: options, output: output)
        // Several batches of uneven size, so batches, pages and row groups do not line up.
        var start = 0
        while start < table.rows {
            let end = min(table.rows, start + batchRows)
            try writer.write(table.columns.map { Self.slice($0, start..<end) })
            start = end
        }
        let result = try writer.close()
        try output.close()
        return (path, result)
    }

    /// Rows `range` of a column batch.
    static func slice(_ data: ColumnData, _ range: Range<Int>) -> ColumnData {
        let before = data.validity.map { $0[..<range.lowerBound].filter { $0 }.count } ?? range.lowerBound
        let count = data.validity.map { $0[range].filter { $0 }.count } ?? range.count
        let values: ColumnValues
        switch data.values {
        case .boolean(let v): values = .boolean(Array(v[before..<before + count]))
        case .int32(let v): values = .int32(Array(v[before..<before + count]))
        case .int64(let v): values = .int64(Array(v[before..<before + count]))
        case .float(let v): values = .float(Array(v[before..<before + count]))
        case .double(let v): values = .double(Array(v[before..<before + count]))
        case .byteArray(let v): values = .byteArray(ByteArrayValues((before..<before + count).map { Array(v[$0]) }))
        case .fixedLenByteArray(let v):
            values = .fixedLenByteArray(FixedLenByteArrayValues(width: v.width, bytes: Array(v.bytes[before * v.width..<(before + count) * v.width])))
        }
        return ColumnData(values, validity: data.validity.map { Array($0[range]) })
    }

    private func assertValues(_ actual: [String?], _ expected: [String?], floating: Bool, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(message): row count", file: file, line: line)
        for (i, (a, e)) in zip(actual, expected).enumerated() {
            let same: Bool
            if floating, let a, let e { same = Double(a) == Double(e) } else { same = a == e }
            if !same {
                XCTFail("\(message): row \(i): got \(a ?? "null"), expected \(e ?? "null")", file: file, line: line)
                return
            }
        }
    }

    /// Expected min, max (as the pyarrow dump prints min_raw/max_raw) and null count of rows `range`.
    private func expectedStats(_ table: SampleTable, column c: Int, rows range: Range<Int>) -> (String?, String?, Int) {
        let data = table.columns[c]
        let validity = data.validity ?? Array(repeating: true, count: table.rows)
        let before = validity[..<range.lowerBound].filter { $0 }.count
        let count = validity[range].filter { $0 }.count
        let nulls = range.count - count
        if count == 0 { return (nil, nil, nulls) }
        let idx = before..<before + count
        func mm<T: Comparable>(_ v: [T], _ show: (T) -> String) -> (String?, String?, Int) {
            let s = v[idx]
            return (show(s.min()!), show(s.max()!), nulls)
        }
        switch data.values {
        case .boolean(let v): return mm(v.map { $0 ? 1 : 0 }) { $0 == 1 ? "true" : "false" }
        case .int32(let v): return mm(v) { String($0) }
        case .int64(let v): return mm(v) { String($0) }
        case .float(let v): return mm(v) { String(Double($0)) }
        case .double(let v): return mm(v) { String($0) }
        case .byteArray(let v):
            let items = idx.map { Array(v[$0]) }
            let lo = items.min { $0.lexicographicallyPrecedes($1) }!, hi = items.max { $0.lexicographicallyPrecedes($1) }!
            return (SampleTable.hex(lo), SampleTable.hex(hi), nulls)
        case .fixedLenByteArray(let v):
            // Decimal: signed big-endian.
            let items = idx.map { Array(v[$0]) }
            func value(_ b: [UInt8]) -> Int64 { b.reduce(Int64(b[0] & 0x80 != 0 ? -1 : 0)) { ($0 << 8) | Int64($1) } }
            let lo = items.min { value($0) < value($1) }!, hi = items.max { value($0) < value($1) }!
            return (SampleTable.hex(lo), SampleTable.hex(hi), nulls)
        }
    }

    func testPyarrowReadsEveryValueStatisticAndFieldIdForEachCodecAndEncoding() throws {
        let table = SampleTable(rows: 2_500)
        let codecs: [(CompressionCodec, String)] = [(.none, "UNCOMPRESSED"), (.snappy, "SNAPPY"), (.gzip(level: 6), "GZIP"), (.zstd(level: 3), "ZSTD")]
        for (codec, codecName) in codecs {
            for dictionary in [true, false] {
                var options = ParquetWriterOptions()
                options.compression = codec
                options.dictionaryEnabled = dictionary
                options.rowGroupRows = 1_000
                options.pageBytes = 1_024
                options.keyValueMetadata = [ParquetKeyValue(key: "k2.test", value: "value-\(codecName)")]
                let label = "\(codecName) dictionary=\(dictionary)"
                let (path, result) = try write(table, options: options, name: "sample-\(codecName)-\(dictionary).parquet")
                XCTAssertEqual(result.rowCount, 2_500)
                XCTAssertEqual(result.rowGroupOffsets.count, 3)

                let dump = try Checkers.run(Checkers.pyarrowDump, [path])
                XCTAssertEqual(dump["num_rows"] as? Int, 2_500, label)
                let values = dump["values"] as! [String: Any]
                for (c, column) in table.schema.columns.enumerated() {
                    assertValues(Checkers.texts(values[column.name]), table.expected(c),
                                 floating: SampleTable.floatingColumns.contains(column.name), "\(label) column \(column.name)")
                }
                let ids = dump["field_ids"] as! [String: Int]
                XCTAssertEqual(ids, Dictionary(uniqueKeysWithValues: table.schema.columns.map { ($0.name, Int($0.fieldId!)) }), label)
                XCTAssertEqual((dump["kv"] as! [String: String])["k2.test"], "value-\(codecName)", label)
                let types = dump["types"] as! [String: String]
                XCTAssertEqual(types["tsu"], "timestamp[us, tz=UTC]", label)
                XCTAssertEqual(types["tsm"], "timestamp[ms]", label)
                XCTAssertEqual(types["dt"], "date32[day]", label)
                XCTAssertEqual(types["s"], "string", label)
                XCTAssertEqual(types["bin"], "binary", label)
                XCTAssertEqual(types["dec"], "decimal128(9, 2)", label)

                let groups = dump["row_groups"] as! [[String: Any]]
                XCTAssertEqual(groups.map { $0["num_rows"] as? Int }, [1_000, 1_000, 500], label)
                for (g, group) in groups.enumerated() {
                    let range = g * 1_000..<min(2_500, (g + 1) * 1_000)
                    let cols = group["columns"] as! [[String: Any]]
                    for (c, column) in table.schema.columns.enumerated() {
                        let stats = cols[c]
                        let (lo, hi, nulls) = expectedStats(table, column: c, rows: range)
                        let where_ = "\(label) row group \(g) column \(column.name)"
                        XCTAssertEqual(stats["compression"] as? String, codecName, where_)
                        XCTAssertEqual(stats["null_count"] as? Int, nulls, where_)
                        XCTAssertEqual(stats["num_values"] as? Int, range.count, where_)
                        if SampleTable.floatingColumns.contains(column.name) {
                            XCTAssertEqual((stats["min"] as? String).flatMap(Double.init), lo.flatMap(Double.init), where_)
                            XCTAssertEqual((stats["max"] as? String).flatMap(Double.init), hi.flatMap(Double.init), where_)
                        } else {
                            XCTAssertEqual(stats["min"] as? String, lo, where_)
                            XCTAssertEqual(stats["max"] as? String, hi, where_)
                        }
                        let encodings = stats["encodings"] as? [String] ?? []
                        if dictionary && column.physicalType != .boolean {
                            XCTAssertTrue(encodings.contains("RLE_DICTIONARY"), "\(where_): \(encodings)")
                        } else {
                            XCTAssertFalse(encodings.contains("RLE_DICTIONARY"), "\(where_): \(encodings)")
                        }
                    }
                }
                // The file-level summary for Iceberg matches the footers.
                for (c, column) in table.schema.columns.enumerated() {
                    let (lo, hi, nulls) = expectedStats(table, column: c, rows: 0..<2_500)
                    let summary = result.columns[c]
                    XCTAssertEqual(summary.fieldId, column.fieldId)
                    XCTAssertEqual(summary.valueCount, 2_500)
                    XCTAssertEqual(summary.nullCount, Int64(nulls), "\(label) \(column.name)")
                    if column.physicalType == .byteArray || column.physicalType == .fixedLenByteArray {
                        XCTAssertEqual(summary.minValue.map(SampleTable.hex), lo, "\(label) \(column.name)")
                        XCTAssertEqual(summary.maxValue.map(SampleTable.hex), hi, "\(label) \(column.name)")
                    }
                }
            }
        }
    }

    func testDictionaryFallsBackToPlainWhenItGrowsAndPyarrowReadsBoth() throws {
        // 3,000 distinct 200-byte values: the dictionary passes 64 KiB and the chunk continues in PLAIN.
        var rng = SplitMix64(seed: 7)
        var payloads = ByteArrayValues()
        for _ in 0..<3_000 { payloads.append((0..<200).map { _ in UInt8(truncatingIfNeeded: rng.next()) }) }
        let topics = ByteArrayValues(strings: (0..<3_000).map { _ in "market.raw.trades.binance" })
        let schema = ParquetSchema([.binary("raw_bytes", fieldId: 1), .string("topic", fieldId: 2)])
        var options = ParquetWriterOptions()
        options.dictionaryPageBytesLimit = 64 * 1024
        options.pageBytes = 16 * 1024
        let path = directory.appendingPathComponent("fallback.parquet").path
        let output = try ParquetFileOutput(path: path)
        let writer = try ParquetWriter(schema: schema, options: options, output: output)
        try writer.write([ColumnData(.byteArray(payloads)), ColumnData(.byteArray(topics))])
        try writer.close()
        try output.close()

        let dump = try Checkers.run(Checkers.pyarrowDump, [path])
        let values = dump["values"] as! [String: Any]
        XCTAssertEqual(Checkers.texts(values["raw_bytes"]), (0..<3_000).map { SampleTable.hex(payloads[$0]) })
        XCTAssertEqual(Checkers.texts(values["topic"]), Array(repeating: "market.raw.trades.binance", count: 3_000))
        let cols = (dump["row_groups"] as! [[String: Any]])[0]["columns"] as! [[String: Any]]
        let rawEncodings = cols[0]["encodings"] as! [String]
        XCTAssertTrue(rawEncodings.contains("RLE_DICTIONARY") && rawEncodings.contains("PLAIN"), "\(rawEncodings)")
        XCTAssertTrue((cols[1]["encodings"] as! [String]).contains("RLE_DICTIONARY"))
    }

    func testDuckDBReadsOurFile() throws {
        let table = SampleTable(rows: 1_800, seed: 9)
        var options = ParquetWriterOptions()
        options.rowGroupRows = 700
        options.pageBytes = 2_000
        let (path, _) = try write(table, options: options, name: "duck.parquet", batchRows: 333)
        let script = #"""
import sys, json, duckdb
con = duckdb.connect()
rows = con.execute("""
  SELECT b, i32, i64, f, d, hex(bin), s, date_diff('day', DATE '1970-01-01', dt), epoch_us(tsu), epoch_ms(tsm),
         CAST(dec * 100 AS BIGINT), lowcard
  FROM read_parquet(?)""", [sys.argv[1]]).fetchall()
def text(v):
    if v is None: return None
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, float): return repr(v)
    return str(v)
cols = list(zip(*rows))
print(json.dumps({"columns": [[text(v) for v in c] for c in cols]}))
"""#
        let dump = try Checkers.run(script, [path])
        let cols = dump["columns"] as! [Any]
        XCTAssertEqual(cols.count, table.schema.columns.count)
        for (c, column) in table.schema.columns.enumerated() {
            var expected = table.expected(c)
            if column.name == "bin" { expected = expected.map { $0?.uppercased() } }
            assertValues(Checkers.texts(cols[c]), expected, floating: SampleTable.floatingColumns.contains(column.name), "duckdb column \(column.name)")
        }
    }
}

/// The bench helper writes a valid Bronze-shaped file (checked by pyarrow), and reads its columns back.
final class BronzeBenchmarkTests: XCTestCase {
    func testBronzeBenchmarkFileIsReadByPyarrow() throws {
        let dir = try TestEnvironment.temporaryDirectory("parquet-bench")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("bronze.parquet").path
        let m = try ParquetBronzeBenchmark.run(rows: 30_000, path: path, batchRows: 7_000)
        XCTAssertEqual(m.rows, 30_000)
        XCTAssertEqual(m.offsetSum, (0..<30_000).reduce(Int64(0)) { $0 + Int64($1 / 6) })
        let script = #"""
import sys, json, pyarrow.parquet as pq, pyarrow.compute as pc
t = pq.read_table(sys.argv[1])
pf = pq.ParquetFile(sys.argv[1])
print(json.dumps({"rows": t.num_rows, "offset_sum": pc.sum(t["offset"]).as_py(),
  "partitions": sorted(set(t["partition"].to_pylist())),
  "raw_lengths": sorted(set(len(v) for v in t["raw_bytes"].to_pylist())),
  "topics": sorted(set(t["topic"].to_pylist())), "codec": pf.metadata.row_group(0).column(0).compression,
  "types": [str(f.type) for f in t.schema]}))
"""#
        let dump = try Checkers.run(script, [path])
        XCTAssertEqual(dump["rows"] as? Int, 30_000)
        XCTAssertEqual((dump["offset_sum"] as? NSNumber)?.int64Value, m.offsetSum)
        XCTAssertEqual(dump["partitions"] as? [Int], [0, 1, 2, 3, 4, 5])
        XCTAssertEqual(dump["raw_lengths"] as? [Int], [200])
        XCTAssertEqual(dump["topics"] as? [String], ["market.raw.trades.binance"])
        XCTAssertEqual(dump["codec"] as? String, "ZSTD")
        XCTAssertEqual(dump["types"] as? [String], ["binary", "string", "int32", "int64", "timestamp[us, tz=UTC]", "timestamp[us, tz=UTC]", "date32[day]"])
    }
}

extension WriterInteropTests {
    /// A file with no rows (no row groups) and one with only nulls are valid for pyarrow and for us.
    func testEmptyAndAllNullFiles() throws {
        let schema = ParquetSchema([.string("s", fieldId: 1), .int64("n", fieldId: 2)])
        for rows in [0, 5] {
            let path = directory.appendingPathComponent("edge-\(rows).parquet").path
            let output = try ParquetFileOutput(path: path)
            let writer = try ParquetWriter(schema: schema, output: output)
            if rows > 0 {
                let none = [Bool](repeating: false, count: rows)
                try writer.write([ColumnData(.byteArray(ByteArrayValues()), validity: none), ColumnData(.int64([]), validity: none)])
            }
            let result = try writer.close()
            try output.close()
            XCTAssertEqual(result.columns[0].minValue, nil)
            XCTAssertEqual(result.columns[1].nullCount, Int64(rows))
            let dump = try Checkers.run(Checkers.pyarrowDump, [path])
            XCTAssertEqual(dump["num_rows"] as? Int, rows)
            let values = dump["values"] as! [String: Any]
            XCTAssertEqual(Checkers.texts(values["s"]), [String?](repeating: nil, count: rows))
            XCTAssertEqual(Checkers.texts(values["n"]), [String?](repeating: nil, count: rows))
            let ours = try ParquetReader(path: path).read()
            XCTAssertEqual(ours[1].rowCount, rows)
            XCTAssertEqual(ours[1].nullCount, rows)
        }
    }
}

extension WriterInteropTests {
    /// Runs of equal fixed-width values (a commit's ingestion time, a day, the milliseconds of a burst) take the
    /// writer's repeat shortcut: the previous dictionary index, no statistics update. Nulls inside runs, runs
    /// across batch and page boundaries, a dictionary that falls back to PLAIN in the middle of a run, and
    /// -0.0 beside 0.0 (equal, but different bit patterns) must still come back exactly, with exact statistics.
    func testRunsOfEqualValuesComeBackExactlyWithTheirStatistics() throws {
        let rows = 6_000
        var rng = SplitMix64(seed: 11)
        var validity: [Bool] = [], longs: [Int64] = [], ints: [Int32] = [], doubles: [Double] = []
        var expectedLongs: [String?] = [], expectedInts: [String?] = [], expectedDoubles: [String?] = []
        var long: Int64 = -5, int: Int32 = 19_700, double = -0.0
        for r in 0..<rows {
            // Runs of 1 to 12 rows; the long column's values grow, so the dictionary (limit below) overflows mid-file.
            if rng.next() % 6 == 0 { long += Int64(rng.next() % 3) + 1 }
            if rng.next() % 9 == 0 { int = int == 19_700 ? -3 : 19_700 }
            if rng.next() % 7 == 0 { double = double.sign == .minus && double == 0 ? 0.0 : (double == 0 ? 2.5 : -0.0) }
            let present = r % 11 != 4
            validity.append(present)
            if present { longs.append(long); doubles.append(double) }
            expectedLongs.append(present ? String(long) : nil)
            expectedDoubles.append(present ? String(double) : nil)
            ints.append(int)
            expectedInts.append(String(int))
        }
        let schema = ParquetSchema([.int64("n", .optional, fieldId: 1), .int32("day", .required, fieldId: 2),
                                    .double("x", .optional, fieldId: 3)])
        let columns = [ColumnData(.int64(longs), validity: validity), ColumnData(.int32(ints)),
                       ColumnData(.double(doubles), validity: validity)]
        var options = ParquetWriterOptions()
        options.rowGroupRows = 2_500
        options.pageBytes = 700
        options.dictionaryPageBytesLimit = 1_600   // 200 distinct longs: the n column falls back to PLAIN
        let path = directory.appendingPathComponent("runs.parquet").path
        let output = try ParquetFileOutput(path: path)
        let writer = try ParquetWriter(schema: schema, options: options, output: output)
        var start = 0
        for size in [1, 2, 997, 5, 1_500, 3, 3_492] {
            try writer.write(columns.map { Self.slice($0, start..<start + size) })
            start += size
        }
        XCTAssertEqual(start, rows)
        try writer.close()
        try output.close()

        let dump = try Checkers.run(Checkers.pyarrowDump, [path])
        let values = dump["values"] as! [String: Any]
        assertValues(Checkers.texts(values["n"]), expectedLongs, floating: false, "n")
        assertValues(Checkers.texts(values["day"]), expectedInts, floating: false, "day")
        assertValues(Checkers.texts(values["x"]), expectedDoubles, floating: false, "x (-0.0 and 0.0 keep their signs)")
        let groups = dump["row_groups"] as! [[String: Any]]
        XCTAssertEqual(groups.map { $0["num_rows"] as? Int }, [2_500, 2_500, 1_000])
        var sawFallback = false
        for (g, group) in groups.enumerated() {
            let range = g * 2_500..<min(rows, (g + 1) * 2_500)
            let present = range.filter { validity[$0] }
            let cols = group["columns"] as! [[String: Any]]
            let n = present.map { Int64(expectedLongs[$0]!)! }, day = range.map { Int32(expectedInts[$0]!)! }
            XCTAssertEqual(cols[0]["min"] as? String, String(n.min()!), "row group \(g) n")
            XCTAssertEqual(cols[0]["max"] as? String, String(n.max()!), "row group \(g) n")
            XCTAssertEqual(cols[0]["null_count"] as? Int, range.count - present.count, "row group \(g) n")
            XCTAssertEqual(cols[1]["min"] as? String, String(day.min()!), "row group \(g) day")
            XCTAssertEqual(cols[1]["max"] as? String, String(day.max()!), "row group \(g) day")
            let x = present.map { Double(expectedDoubles[$0]!)! }
            XCTAssertEqual((cols[2]["min"] as? String).flatMap(Double.init), x.min(), "row group \(g) x")
            XCTAssertEqual((cols[2]["max"] as? String).flatMap(Double.init), x.max(), "row group \(g) x")
            let encodings = cols[0]["encodings"] as? [String] ?? []
            if encodings.contains("RLE_DICTIONARY") && encodings.contains("PLAIN") { sawFallback = true }
            XCTAssertTrue((cols[1]["encodings"] as? [String] ?? []).contains("RLE_DICTIONARY"), "row group \(g) day")
        }
        XCTAssertTrue(sawFallback, "the n column's dictionary should fall back to PLAIN inside a row group")
        // Our own reader agrees.
        let ours = try ParquetReader(path: path).read()
        XCTAssertEqual(ours[0].rowCount, rows)
        XCTAssertEqual(ours[0].nullCount, rows - longs.count)
    }
}
