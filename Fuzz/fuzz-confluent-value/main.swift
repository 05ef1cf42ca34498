import Avro
import Bronze
import FuzzSupport

// A Kafka record value in the Confluent wire format K2 v1 uses (docs/k2-platform.md): magic byte 0, a 4-byte
// big-endian Schema Registry id, then the Avro binary body. The library writes these (`BronzeRecordEncoder`)
// but has no decoder of its own; this harness reads the framing as a consumer does (magic, id looked up in a
// registry that knows Binance = 7 and Kraken = 300, as the Bronze tests register them) and decodes the body
// with `AvroDatum.decode` against the schema the library registers (`BronzeExchange.avroSchema`).

let schemas: [UInt32: AvroSchema] = [
    7: try! AvroSchema(json: BronzeExchange.binance.avroSchema),
    300: try! AvroSchema(json: BronzeExchange.kraken.avroSchema),
]

struct FramingError: Error { var message: String }

func decodeConfluent(_ value: [UInt8]) throws -> AvroValue {
    guard value.count >= 5 else { throw FramingError(message: "\(value.count) bytes: shorter than the 5-byte prefix") }
    guard value[0] == 0 else { throw FramingError(message: "magic byte \(value[0]), expected 0") }
    let id = value[1...4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    guard let schema = schemas[id] else { throw FramingError(message: "schema id \(id) is not registered") }
    var decoder = AvroBinaryDecoder(value, position: 5)
    let decoded = try AvroDatum.decode(schema: schema, from: &decoder)
    guard decoder.isAtEnd else { throw FramingError(message: "\(decoder.remaining) bytes after the Avro body") }
    return decoded
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    _ = try? decodeConfluent(FuzzMain.bytes(data, size))
    return 0
}

/// Values from `BronzeRecordEncoder(format: .avroConfluent)` for Binance (wrapped, bare) and Kraken v1/v2 frames.
func makeSeeds() throws -> [(name: String, bytes: [UInt8])] {
    let frames: [(String, String)] = [
        ("binance", #"{"stream":"btcusdt@trade","data":{"e":"trade","E":1700000000123,"s":"BTCUSDT","t":4242,"p":"42000.10","q":"0.015","T":1700000000120,"m":true,"M":true}}"#),
        ("binance", #"{"e":"trade","E":1700000000123,"s":"ETHUSDT","t":17,"p":"2000.5","q":"1.0","T":1700000000100,"m":false}"#),
        ("kraken", #"[119930881,[["42000.1","0.5","1700000000.123456","b","l",""],["42000.2","0.1","1700000000.223456","s","m",""]],"trade","XBT/USD"]"#),
        ("kraken-v2", #"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":42000.1,"qty":0.5,"ord_type":"limit","trade_id":77,"timestamp":"2023-11-14T22:13:20.123456Z"}]}"#),
    ]
    var encoder = BronzeRecordEncoder(format: .avroConfluent, schemaIds: [.binance: 7, .kraken: 300])
    var seeds: [(name: String, bytes: [UInt8])] = []
    for (source, frame) in frames {
        try encoder.encode(source: source, stream: "s", payload: Array(frame.utf8), receiveTimeNanos: 1_700_000_000_500_000_000) { record in
            seeds.append(("\(source)-\(seeds.count).bin", Array(record.value)))
        }
    }
    for seed in seeds { _ = try decodeConfluent(seed.bytes) }   // the seeds must decode
    return seeds
}

FuzzMain.run(testOneInput, seeds: makeSeeds)
