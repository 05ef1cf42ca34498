@testable import Parquet
import XCTest

/// The compact protocol decoder skips fields it does not know (parquet-mr and Arrow write newer ones).
final class ThriftCompactTests: XCTestCase {
    func testUnknownFieldsOfEveryTypeAreSkipped() throws {
        var w = ThriftCompactWriter()
        w.binary(1, [9, 9])                      // max
        w.bool(7, true)                          // is_max_value_exact (not modelled)
        // field 9: double (type 7), then 8 bytes
        w.bytes.append(0x20 | 7); w.bytes.append(contentsOf: [0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        // field 10: map<binary, i32> with 2 entries
        w.bytes.append(0x10 | 11); w.writeVarint(2); w.bytes.append(0x85)
        for (k, v) in [("a", 1), ("bc", -7)] { w.writeVarint(UInt64(k.utf8.count)); w.bytes.append(contentsOf: k.utf8); w.writeZigzag(Int64(v)) }
        // field 11: list<bool> of 3
        w.bytes.append(0x10 | 9); w.bytes.append(0x31); w.bytes.append(contentsOf: [1, 2, 1])
        // field 12: struct { 1: set<i64> {5, 6}, 2: struct {} }
        w.bytes.append(0x10 | 12); w.bytes.append(0x10 | 10); w.bytes.append(0x26); w.writeZigzag(5); w.writeZigzag(6)
        w.bytes.append(0x10 | 12); w.bytes.append(0); w.bytes.append(0)
        // field 300 (long form header): i64
        w.bytes.append(6); w.writeZigzag(300); w.writeZigzag(123_456_789)
        // Known fields after the unknown ones, with a negative delta (long form).
        w.bytes.append(8); w.writeZigzag(6); w.writeVarint(3); w.bytes.append(contentsOf: [1, 2, 3])  // min_value
        w.bytes.append(6); w.writeZigzag(3); w.writeZigzag(42)                                      // null_count
        w.endTopLevel()

        var r = ThriftCompactReader(bytes: w.bytes)
        let stats = try r.readStatistics()
        XCTAssertEqual(stats.max, [9, 9])
        XCTAssertEqual(stats.minValue, [1, 2, 3])
        XCTAssertEqual(stats.nullCount, 42)
        XCTAssertNil(stats.maxValue)
        XCTAssertEqual(r.position, w.bytes.count)
    }

    func testFooterRoundTripAndTruncationErrors() throws {
        var md = ParquetFileMetaData()
        var root = ParquetSchemaElement()
        root.name = "schema"
        root.numChildren = 1
        md.schema = [root, ParquetWriter.schemaElement(.timestamp("ts", unit: .millis, isAdjustedToUTC: false, fieldId: 17))]
        md.numRows = 3
        md.keyValueMetadata = [ParquetKeyValue(key: "k", value: nil)]
        md.createdBy = "test"
        var w = ThriftCompactWriter()
        w.write(md)
        var r = ThriftCompactReader(bytes: w.bytes)
        let back = try r.readFileMetaData()
        XCTAssertEqual(back.schema, md.schema)
        XCTAssertEqual(back.keyValueMetadata, md.keyValueMetadata)
        XCTAssertEqual(back.schema[1].logicalType, .timestamp(isAdjustedToUTC: false, unit: .millis))
        XCTAssertEqual(back.schema[1].fieldId, 17)
        for cut in 0..<w.bytes.count {
            var t = ThriftCompactReader(bytes: Array(w.bytes[..<cut]))
            XCTAssertThrowsError(try t.readFileMetaData(), "cut at \(cut)")
        }
    }
}
