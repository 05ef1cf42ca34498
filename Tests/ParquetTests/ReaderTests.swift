import Codecs
import Foundation
import Parquet
import TestSupport
import XCTest

/// Our reader on our own files: round trip, projection, row-group skipping, corrupt input.
final class ReaderTests: XCTestCase {
    private func writeSample(_ table: SampleTable, _ configure: (inout ParquetWriterOptions) -> Void = { _ in }) throws -> [UInt8] {
        var options = ParquetWriterOptions()
        options.rowGroupRows = 1_000
        options.pageBytes = 1_500
        configure(&options)
        let output = ParquetMemoryOutput()
        let writer = try ParquetWriter(schema: table.schema, options: options, output: output)
        var start = 0
        while start < table.rows {
            let end = min(table.rows, start + 611)
            try writer.write(table.columns.map { WriterInteropTests.slice($0, start..<end) })
            start = end
        }
        try writer.close()
        return output.bytes
    }

    func testRoundTripOfEveryTypeCodecAndEncoding() throws {
        let table = SampleTable(rows: 2_345)
        for codec in [CompressionCodec.none, .snappy, .gzip(level: 1), .zstd(level: 3), .lz4] {
            for dictionary in [true, false] {
                let bytes = try writeSample(table) {
                    $0.compression = codec
                    $0.dictionaryEnabled = dictionary
                }
                let reader = try ParquetReader(input: ParquetMemoryInput(bytes, name: "sample-\(codec)"))
                XCTAssertEqual(reader.rowCount, 2_345)
                XCTAssertEqual(reader.rowGroupCount, 3)
                XCTAssertEqual(reader.schema, table.schema, "schema (names, types, logical types, field ids) survives")
                let columns = try reader.read()
                for (c, column) in table.schema.columns.enumerated() {
                    assertSameColumn(columns[c], table.columns[c], "\(codec) dictionary=\(dictionary) column \(column.name)")
                }
            }
        }
    }

    func testProjectionByNameAndFieldIdAndRowGroupSkipping() throws {
        let table = SampleTable(rows: 3_000)
        let bytes = try writeSample(table)
        let reader = try ParquetReader(input: ParquetMemoryInput(bytes))
        // tsm decreases with the row number: row group g holds rows g*1000..<(g+1)*1000.
        let byName = try reader.read(columns: [.name("tsm"), .name("s")])
        assertSameColumn(byName[0], table.columns[9], "tsm by name")
        assertSameColumn(byName[1], table.columns[6], "s by name")
        let byId = try reader.read(columns: [.fieldId(12), .fieldId(3)])
        assertSameColumn(byId[0], table.columns[11], "lowcard by id")
        assertSameColumn(byId[1], table.columns[2], "i64 by id")
        XCTAssertThrowsError(try reader.read(columns: [.name("nope")]))

        // Rows 1000..<2000 have tsm in [1.6e12 - 1999*7777, 1.6e12 - 1000*7777].
        let middle = ParquetRangePredicate.int64(.name("tsm"), (1_600_000_000_000 - 1_500 * 7_777)...(1_600_000_000_000 - 1_400 * 7_777))
        XCTAssertEqual(try reader.rowGroups(matching: [middle]), [1])
        let skipped = try reader.read(columns: [.name("tsm")], where: [middle])
        assertSameColumn(skipped[0], WriterInteropTests.slice(table.columns[9], 1_000..<2_000), "tsm of row group 1")
        let none = ParquetRangePredicate.int64(.name("tsm"), 0...1)
        XCTAssertEqual(try reader.rowGroups(matching: [none]), [])
        // Strings compare as unsigned bytes: every value starts with "sym-".
        let strings = ParquetRangePredicate.bytes(.name("s"), lower: Array("sym-".utf8), upper: Array("sym-9".utf8))
        XCTAssertEqual(try reader.rowGroups(matching: [strings]), [0, 1, 2])
        let after = ParquetRangePredicate.bytes(.name("s"), lower: Array("t".utf8), upper: nil)
        XCTAssertEqual(try reader.rowGroups(matching: [after]), [])
    }

    func testWriterReportsStatisticsWithUnsignedByteOrderAndSplitOffsets() throws {
        // 0x80 sorts after 0x7f as unsigned bytes; a signed comparison would put it first.
        let schema = ParquetSchema([.binary("raw", .required, fieldId: 1), .int32("n", .optional, fieldId: 2)])
        let output = ParquetMemoryOutput()
        let writer = try ParquetWriter(schema: schema, output: output)
        try writer.write([
            ColumnData(.byteArray(ByteArrayValues([[0x80], [0x7F, 0xFF], [0x00, 0x01], [0xFF]]))),
            ColumnData(.int32([-5, 7]), validity: [true, false, false, true]),
        ])
        let result = try writer.close()
        XCTAssertEqual(result.rowCount, 4)
        XCTAssertEqual(result.rowGroupOffsets, [4])
        XCTAssertEqual(result.fileSize, Int64(output.bytes.count))
        XCTAssertEqual(result.columns[0].minValue, [0x00, 0x01])
        XCTAssertEqual(result.columns[0].maxValue, [0xFF])
        XCTAssertEqual(result.columns[1].minValue, [0xFB, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(result.columns[1].maxValue, [7, 0, 0, 0])
        XCTAssertEqual(result.columns[1].nullCount, 2)
        XCTAssertEqual(result.columns[1].valueCount, 4)
    }

    func testWriterRejectsBatchesThatDoNotFitTheSchema() throws {
        let schema = ParquetSchema([.int64("offset", .required), .string("topic")])
        let writer = try ParquetWriter(schema: schema, output: ParquetMemoryOutput())
        XCTAssertThrowsError(try writer.write([ColumnData(.int64([1]))]))  // missing a column
        XCTAssertThrowsError(try writer.write([ColumnData(.int32([1])), ColumnData(.byteArray(ByteArrayValues(strings: ["a"])))]))
        XCTAssertThrowsError(try writer.write([ColumnData(.int64([1]), validity: [false, true]), ColumnData(.byteArray(ByteArrayValues(strings: ["a", "b"])))]))
        XCTAssertThrowsError(try writer.write([ColumnData(.int64([1, 2])), ColumnData(.byteArray(ByteArrayValues(strings: ["a"])), validity: [true, true])]))
    }

    func testTruncatedAndCorruptFilesGiveErrorsNamingTheFile() throws {
        let table = SampleTable(rows: 500)
        let bytes = try writeSample(table) { $0.compression = .snappy }
        // Every truncation is an error (on open or on read), never a crash or silent success.
        for length in stride(from: 0, to: bytes.count, by: max(1, bytes.count / 97)) {
            let name = "truncated-\(length).parquet"
            do {
                let reader = try ParquetReader(input: ParquetMemoryInput(Array(bytes[..<length]), name: name))
                _ = try reader.read()
                XCTFail("truncated at \(length) of \(bytes.count) bytes was read without error")
            } catch let error as ParquetError {
                XCTAssertTrue(error.description.contains(name), "\(error)")
            }
        }
        // Bad magic.
        var badMagic = bytes
        badMagic[0] = UInt8(ascii: "X")
        XCTAssertThrowsError(try ParquetReader(input: ParquetMemoryInput(badMagic, name: "magic.parquet"))) { error in
            XCTAssertTrue("\(error)".contains("magic.parquet") && "\(error)".contains("bad magic"), "\(error)")
        }
        // Footer length beyond the file.
        var longFooter = bytes
        longFooter[bytes.count - 5] = 0x7F
        XCTAssertThrowsError(try ParquetReader(input: ParquetMemoryInput(longFooter, name: "footer.parquet"))) { error in
            XCTAssertTrue("\(error)".contains("footer length"), "\(error)")
        }
        // A garbled page header in the first column chunk.
        let reader = try ParquetReader(input: ParquetMemoryInput(bytes))
        let start = Int(reader.columnMetaData(rowGroup: 0, column: 0).chunkStart)
        var garbled = bytes
        for k in 0..<6 { garbled[start + k] = 0xFF }
        let broken = try ParquetReader(input: ParquetMemoryInput(garbled, name: "garbled.parquet"))
        XCTAssertThrowsError(try broken.read(columns: [.name("b")])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("garbled.parquet") && text.contains("row group 0") && text.contains("column b") && text.contains("page header"), text)
        }
        // Other columns are still readable (projection reads only their chunks).
        assertSameColumn(try broken.read(columns: [.name("i32")])[0], table.columns[1], "i32 next to a garbled chunk")
        // Byte flips in the footer and in page headers: errors or values, never a crash.
        let footerLength = Int(bytes[bytes.count - 8]) | Int(bytes[bytes.count - 7]) << 8 | Int(bytes[bytes.count - 6]) << 16
        var headerSpots: [Int] = []
        for g in 0..<reader.rowGroupCount {
            for c in reader.schema.columns.indices { headerSpots.append(Int(reader.columnMetaData(rowGroup: g, column: c).chunkStart)) }
        }
        var fuzz = SplitMix64(seed: 99)
        for k in 0..<600 {
            var flipped = bytes
            let at = k % 2 == 0
                ? bytes.count - 8 - footerLength + Int(fuzz.next() % UInt64(footerLength))
                : headerSpots[Int(fuzz.next() % UInt64(headerSpots.count))] + Int(fuzz.next() % 24)
            flipped[at] ^= UInt8(truncatingIfNeeded: fuzz.next() | 1)
            if let r = try? ParquetReader(input: ParquetMemoryInput(flipped)) { _ = try? r.read() }
        }
        // Random byte flips anywhere: errors or values, never a crash.
        var rng = SplitMix64(seed: 3)
        for _ in 0..<200 {
            var flipped = bytes
            let at = Int(rng.next() % UInt64(bytes.count))
            flipped[at] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
            if let r = try? ParquetReader(input: ParquetMemoryInput(flipped)) { _ = try? r.read() }
        }
    }

    func testFileInputAndOutput() throws {
        let dir = try TestEnvironment.temporaryDirectory("parquet-file")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("t.parquet").path
        let table = SampleTable(rows: 100)
        let out = try ParquetFileOutput(path: path)
        let writer = try ParquetWriter(schema: table.schema, output: out)
        try writer.write(table.columns)
        try writer.close()
        try out.close(sync: true)
        let reader = try ParquetReader(path: path)
        for (c, column) in try reader.read().enumerated() { assertSameColumn(column, table.columns[c], "file column \(c)") }
        XCTAssertThrowsError(try ParquetReader(path: dir.appendingPathComponent("missing.parquet").path)) { error in
            XCTAssertTrue("\(error)".contains("missing.parquet"), "\(error)")
        }
    }
}

extension ReaderTests {
    func testLongStatisticsStayOutOfTheFooterButInTheSummary() throws {
        let schema = ParquetSchema([.binary("blob", .required, fieldId: 1)])
        var options = ParquetWriterOptions()
        options.statisticsMaxBytes = 100
        let output = ParquetMemoryOutput()
        let writer = try ParquetWriter(schema: schema, options: options, output: output)
        let long = [UInt8](repeating: 0xAB, count: 150)
        try writer.write([ColumnData(.byteArray(ByteArrayValues([long, [1, 2]])))])
        let result = try writer.close()
        XCTAssertEqual(result.columns[0].minValue, [1, 2])
        XCTAssertEqual(result.columns[0].maxValue, long)
        let reader = try ParquetReader(input: ParquetMemoryInput(output.bytes))
        let stats = reader.columnMetaData(rowGroup: 0, column: 0).statistics
        XCTAssertNil(stats?.minValue)
        XCTAssertNil(stats?.maxValue)
        XCTAssertEqual(stats?.nullCount, 0)
        // Without bounds the row group is never skipped.
        XCTAssertEqual(try reader.rowGroups(matching: [.bytes(.name("blob"), lower: [0xFF], upper: nil)]), [0])
    }
}
