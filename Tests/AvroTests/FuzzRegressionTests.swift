import Avro
import Foundation
import TestSupport
import XCTest

/// Inputs the libFuzzer targets (`make fuzz`, Fuzz/fuzz-avro) found crashing, kept under
/// fixtures/hostile/fuzz/fuzz-avro/: each must now be a thrown `AvroDecodingError`, never a trap.
final class AvroFuzzRegressionTests: XCTestCase {
    /// The schema fuzz-avro decodes its input with (Fuzz/fuzz-avro/main.swift, `everyType`).
    static let everyType = """
        {"type":"record","name":"Every","namespace":"k2.fuzz","fields":[
         {"name":"b","type":"boolean"},{"name":"i","type":"int"},{"name":"l","type":"long"},
         {"name":"f","type":"float"},{"name":"d","type":"double"},{"name":"by","type":"bytes"},{"name":"s","type":"string"},
         {"name":"e","type":{"type":"enum","name":"Side","symbols":["buy","sell"]}},
         {"name":"x","type":{"type":"fixed","name":"Sixteen","size":16}},
         {"name":"a","type":{"type":"array","items":["null","long","string"]}},
         {"name":"m","type":{"type":"map","values":{"type":"record","name":"Inner","fields":[{"name":"v","type":["null","double"]}]}}},
         {"name":"u","type":["null","string","Inner"]},
         {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
         {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":18,"scale":8}}
        ]}
        """

    /// An array block count of -2^63 (zigzag varint ff×9 01): negating it trapped in `readBlockCount`.
    func testBlockCountInt64MinIsAnError() throws {
        let url = TestEnvironment.repositoryRoot.appendingPathComponent("fixtures/hostile/fuzz/fuzz-avro/datum-block-count-int64-min.bin")
        let bytes = [UInt8](try Data(contentsOf: url))
        let schema = try AvroSchema(json: Self.everyType)
        var decoder = AvroBinaryDecoder(bytes)
        var thrown: Error?
        while !decoder.isAtEnd {
            do { _ = try AvroDatum.decode(schema: schema, from: &decoder) } catch { thrown = error; break }
        }
        let error = try XCTUnwrap(thrown as? AvroDecodingError, "the fuzz input must be refused")
        XCTAssertTrue(error.message.contains("block count"), error.description)

        // The same count alone, as an array<long> datum.
        var minimal = AvroBinaryDecoder([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01])
        XCTAssertThrowsError(try AvroDatum.decode(schema: .array(items: .long()), from: &minimal)) { error in
            XCTAssertEqual((error as? AvroDecodingError)?.position, 0, "\(error)")
        }
    }
}
