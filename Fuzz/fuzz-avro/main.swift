import Avro
import Foundation
import FuzzSupport

// Avro bytes through the public readers: `AvroContainerReader` (header, schema JSON from the metadata, codec,
// blocks, sync markers, every datum) and `AvroDatum.decode` of the same bytes as a run of binary datums of a
// schema with every Avro type (as a value body arrives from Kafka or a manifest entry).

let everyType = try! AvroSchema(json: """
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
""")

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzMain.bytes(data, size)
    do {
        let reader = try AvroContainerReader(bytes: bytes)
        _ = reader.metadataString("avro.codec")
        try reader.forEach { _ in }
    } catch {}
    var decoder = AvroBinaryDecoder(bytes)
    var values = 0
    while !decoder.isAtEnd && values < 10_000 {
        guard (try? AvroDatum.decode(schema: everyType, from: &decoder)) != nil else { break }
        values += 1
    }
    return 0
}

func sample(_ i: Int) -> AvroValue {
    .record([
        .boolean(i % 2 == 0), .int(Int32(i) - 3), .long(Int64(i) << 40), .float(1.5), .double(-2.25),
        .bytes([UInt8](repeating: UInt8(i), count: i % 5)), .string("trade-\(i)"), .enumeration(i % 2),
        .fixed([UInt8](repeating: 7, count: 16)),
        .array([.null, .long(Int64(i)), .string("x")]),
        .map([("k\(i)", .record([.double(0.5)])), ("n", .record([.null]))]),
        i % 3 == 0 ? .null : (i % 3 == 1 ? .string("u") : .record([.double(3)])),
        .long(1_700_000_000_000_000 + Int64(i)), .bytes([0x01, 0x02]),
    ])
}

/// Container files of every codec, and a run of bare datums, written by the library's own encoders.
func makeSeeds() throws -> [(name: String, bytes: [UInt8])] {
    var seeds: [(name: String, bytes: [UInt8])] = []
    for codec in AvroContainerCodec.allCases {
        var writer = AvroContainerWriter(schema: everyType, codec: codec, metadata: [("iceberg.schema", "{}")], blockSize: 200)
        for i in 0..<6 { try writer.append(sample(i)) }
        seeds.append(("container-\(codec.rawValue).avro", try writer.finish()))
    }
    var encoder = AvroBinaryEncoder()
    for i in 0..<3 { try AvroDatum.encode(sample(i), schema: everyType, into: &encoder) }
    seeds.append(("datums.bin", encoder.bytes))
    return seeds
}

FuzzMain.run(testOneInput, seeds: makeSeeds)
