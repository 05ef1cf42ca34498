import Avro
import Foundation
import TestSupport
import XCTest

/// Container files checked against fastavro, an independent implementation, in both directions.
final class AvroContainerTests: XCTestCase {
    static let schemaJSON = """
        {"type":"record","name":"Trade","namespace":"k2.test","fields":[
          {"name":"id","type":"long","field-id":1},
          {"name":"symbol","type":"string","field-id":2},
          {"name":"price","type":"double","field-id":3},
          {"name":"qty","type":"float","field-id":4},
          {"name":"flag","type":"boolean","field-id":5},
          {"name":"raw","type":"bytes","field-id":6},
          {"name":"note","type":["null","string"],"default":null,"field-id":7},
          {"name":"tags","type":{"type":"array","items":"string","element-id":9},"field-id":8},
          {"name":"attrs","type":{"type":"map","values":"long","key-id":11,"value-id":12},"field-id":10},
          {"name":"digest","type":{"type":"fixed","name":"digest4","size":4},"field-id":13},
          {"name":"side","type":{"type":"enum","name":"Side","symbols":["BUY","SELL"]},"field-id":14},
          {"name":"n","type":"int","field-id":15}
        ]}
        """

    /// Record `i`, the same formula as the Python side uses.
    static func record(_ i: Int) -> AvroValue {
        .record([
            .long(Int64(i) * 1_000_000_007 - 5_000_000_000),
            .string("SYM-\(i % 7)-é"),
            .double(Double(i) * 0.25 - 3.5),
            .float(Float(i) * 0.5),
            .boolean(i % 3 == 0),
            .bytes((0..<(i % 11)).map { UInt8(truncatingIfNeeded: $0 * 31 + i) }),
            i % 4 == 0 ? .null : .string("note \(i)"),
            .array((0..<(i % 3)).map { .string("t\($0)") }),
            .map(i % 2 == 0 ? [] : [("a", .long(Int64(i))), ("b", .long(-Int64(i)))]),
            .fixed([UInt8(i & 0xFF), UInt8((i >> 8) & 0xFF), 0, 0xFF]),
            .enumeration(i % 2),
            .int(Int32(i) - 500),
        ])
    }

    static let pythonRecord = """
        def rec(i):
            return {
                "id": i * 1000000007 - 5000000000, "symbol": f"SYM-{i % 7}-é", "price": i * 0.25 - 3.5,
                "qty": i * 0.5, "flag": i % 3 == 0, "raw": bytes(((j * 31 + i) & 0xFF) for j in range(i % 11)),
                "note": None if i % 4 == 0 else f"note {i}", "tags": [f"t{j}" for j in range(i % 3)],
                "attrs": {} if i % 2 == 0 else {"a": i, "b": -i},
                "digest": bytes([i & 0xFF, (i >> 8) & 0xFF, 0, 0xFF]), "side": ["BUY", "SELL"][i % 2], "n": i - 500,
            }
        """

    func testSchemaKeepsIcebergAttributes() throws {
        let schema = try AvroSchema(json: Self.schemaJSON)
        guard case .record(let r) = schema else { return XCTFail("not a record") }
        XCTAssertEqual(r.fields.map(\.fieldId), [1, 2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15])
        XCTAssertEqual(r.fields[7].type.annotations["element-id"], .int(9))
        XCTAssertEqual(r.fields[8].type.annotations["key-id"], .int(11))
        XCTAssertEqual(r.fields[8].type.annotations["value-id"], .int(12))
        // Printing and parsing again gives the same schema.
        XCTAssertEqual(try AvroSchema(json: schema.toJSON().serialized()), schema)
        let decimal = try AvroSchema(json: #"{"type":"fixed","name":"d","size":5,"logicalType":"decimal","precision":10,"scale":2}"#)
        XCTAssertEqual(decimal.annotations.logicalType, "decimal")
        XCTAssertEqual(decimal.annotations["precision"], .int(10))
    }

    func testFastavroReadsWhatWeWriteWithEveryCodec() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing")
        let schema = try AvroSchema(json: Self.schemaJSON)
        let dir = try TestEnvironment.temporaryDirectory("avro")
        defer { try? FileManager.default.removeItem(at: dir) }
        let count = 1500
        for codec in AvroContainerCodec.allCases {
            var writer = AvroContainerWriter(schema: schema, codec: codec, metadata: [("k2.note", "hello")], blockSize: 4096)
            for i in 0..<count { try writer.append(Self.record(i)) }
            let path = dir.appendingPathComponent("\(codec.rawValue).avro").path
            try Data(try writer.finish()).write(to: URL(fileURLWithPath: path))
            let result = try ProcessRunner.python(Self.pythonRecord + """

                import sys, fastavro, math
                with open(sys.argv[1], "rb") as f:
                    r = fastavro.reader(f)
                    assert r.codec == sys.argv[2], r.codec
                    assert r.metadata["k2.note"] == "hello"
                    n = 0
                    for i, got in enumerate(r):
                        want = rec(i)
                        want["qty"] = float(want["qty"])
                        assert got == want, (i, got, want)
                        n += 1
                print(n)
                """, [path, codec.rawValue])
            XCTAssertEqual(result.status, 0, "\(codec): \(result.stderrText)")
            XCTAssertEqual(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines), "\(count)", "\(codec)")
        }
    }

    func testWeReadWhatFastavroWritesWithEveryCodec() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing")
        let dir = try TestEnvironment.temporaryDirectory("avro")
        defer { try? FileManager.default.removeItem(at: dir) }
        let count = 2000
        for codec in AvroContainerCodec.allCases {
            let path = dir.appendingPathComponent("py-\(codec.rawValue).avro").path
            let result = try ProcessRunner.python(Self.pythonRecord + """

                import sys, json, fastavro
                schema = fastavro.parse_schema(json.loads(sys.argv[3]))
                with open(sys.argv[1], "wb") as f:
                    fastavro.writer(f, schema, (rec(i) for i in range(int(sys.argv[4]))), codec=sys.argv[2], sync_interval=3000)
                """, [path, codec.rawValue, Self.schemaJSON, String(count)])
            XCTAssertEqual(result.status, 0, result.stderrText)
            let reader = try AvroContainerReader(bytes: Array(try Data(contentsOf: URL(fileURLWithPath: path))))
            XCTAssertEqual(reader.codec, codec)
            let records = try reader.readAll()
            XCTAssertEqual(records.count, count, "\(codec)")
            for (i, r) in records.enumerated() where r != Self.record(i) {
                XCTFail("\(codec) record \(i): \(r) != \(Self.record(i))")
                break
            }
        }
    }

    func testCorruptBlockIsReportedWithItsOffset() throws {
        let schema = try AvroSchema(json: Self.schemaJSON)
        var writer = AvroContainerWriter(schema: schema, codec: .snappy)
        for i in 0..<50 { try writer.append(Self.record(i)) }
        var bytes = try writer.finish()
        bytes[bytes.count - 30] ^= 0xFF  // inside the last block's data
        let reader = try AvroContainerReader(bytes: bytes)
        XCTAssertThrowsError(try reader.readAll()) { error in
            XCTAssertTrue("\(error)".contains("at byte"), "\(error)")
        }
        XCTAssertThrowsError(try AvroContainerReader(bytes: Array("not avro".utf8)))
    }

    func testBlockCountBelowItsRecordsIsAnErrorNotSilentLoss() throws {
        let schema = try AvroSchema(json: Self.schemaJSON)
        var writer = AvroContainerWriter(schema: schema, codec: .null)
        for i in 0..<50 { try writer.append(Self.record(i)) }
        var bytes = try writer.finish()
        let sync = Array(bytes.suffix(16))
        // The header ends with the sync marker; the first block's count (zigzag varint 50 = 0x64) follows.
        let headerEnd = (0...(bytes.count - 16)).first { Array(bytes[$0..<$0 + 16]) == sync }! + 16
        XCTAssertEqual(bytes[headerEnd], 0x64)
        bytes[headerEnd] = 0x62  // 49
        let reader = try AvroContainerReader(bytes: bytes)
        XCTAssertThrowsError(try reader.readAll()) { error in
            XCTAssertTrue("\(error)".contains("after its 49 records") && "\(error)".contains("at byte \(headerEnd)"), "\(error)")
        }
    }
}
