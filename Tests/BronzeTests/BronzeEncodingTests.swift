import Avro
import Bronze
import Exchanges
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import XCTest

final class BronzeEncodingTests: XCTestCase {
    let binanceWrapped = Array(#"{"stream":"btcusdt@trade","data":{"e":"trade","E":1707472723123,"s":"BTCUSDT","t":12345678,"p":"42150.50","q":"0.015","b":88,"a":99,"T":1707472723120,"m":false,"M":true}}"#.utf8)
    let binanceBare = Array(#"{"e":"trade","E":1707472723124,"s":"ETHUSDT","t":5,"p":"2500.10000000","q":"1.00000000","T":1707472723121,"m":true}"#.utf8)
    let krakenFrame = Array(#"[0,[["5541.20000","0.15850568","1534614057.321597","s","l",""],["5542.50000","0.40100000","1534614057.324998","b","m",""],["5543.00000","1.00000000","1534614058.000001","b","l","x"]],"trade","XBT/USD"]"#.utf8)
    let krakenV2 = Array(#"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"sell","price":42150.5,"qty":0.00123,"ord_type":"market","trade_id":77,"timestamp":"2024-02-09T10:00:00.123456Z"},{"symbol":"BTC/USD","side":"buy","price":42151,"qty":1e-05,"ord_type":"limit","trade_id":78,"timestamp":"2024-02-09T10:00:01.5Z"}]}"#.utf8)
    let receiveNanos: Int64 = 1_707_472_723_456_789_123

    func testParsersReadExactFields() throws {
        let wrapped = try XCTUnwrap(BinanceTradeEvent.parse(binanceWrapped))
        XCTAssertEqual(wrapped.stream, "btcusdt@trade")
        XCTAssertEqual(wrapped.symbol, "BTCUSDT")
        XCTAssertEqual(wrapped.tradeId, 12345678)
        XCTAssertEqual(wrapped.price, "42150.50")
        XCTAssertEqual(wrapped.quantity, "0.015")
        XCTAssertEqual(wrapped.buyerOrderId, 88)
        XCTAssertEqual(wrapped.isBestMatch, true)
        XCTAssertEqual(String(decoding: binanceWrapped[wrapped.eventRange], as: UTF8.self).prefix(13), #"{"e":"trade","#)
        XCTAssertEqual(binanceWrapped[wrapped.eventRange].last, UInt8(ascii: "}"))
        let bare = try XCTUnwrap(BinanceTradeEvent.parse(binanceBare))
        XCTAssertNil(bare.stream)
        XCTAssertNil(bare.isBestMatch)
        XCTAssertEqual(bare.price, "2500.10000000")
        XCTAssertEqual(bare.eventRange, 0..<binanceBare.count)
        XCTAssertNil(try BinanceTradeEvent.parse(Array(#"{"result":null,"id":1}"#.utf8)))
        XCTAssertThrowsError(try BinanceTradeEvent.parse(Array(#"{"e":"trade","E":1,"s":"X""#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("at byte"), "\(error)")
        }

        let kraken = try XCTUnwrap(KrakenV1TradeFrame.parse(krakenFrame))
        XCTAssertEqual(kraken.pair, "XBT/USD")
        XCTAssertEqual(kraken.trades.count, 3)
        XCTAssertEqual(kraken.trades[2], KrakenV1Trade(price: "5543.00000", volume: "1.00000000", time: "1534614058.000001",
                                                      side: "b", orderType: "l", misc: "x"))
        XCTAssertNil(try KrakenV1TradeFrame.parse(Array(#"{"event":"heartbeat"}"#.utf8)))

        let v2 = try XCTUnwrap(KrakenV2TradeMessage.parse(krakenV2))
        XCTAssertEqual(v2.trades.map(\.tradeId), [77, 78])
        XCTAssertEqual(v2.trades[1].quantity, "1e-05")
        XCTAssertNil(try KrakenV2TradeMessage.parse(Array(#"{"channel":"heartbeat"}"#.utf8)))
    }

    /// fastavro, an independent Avro implementation, decodes our Confluent-framed values against K2's schemas.
    func testAvroConfluentValuesDecodeWithFastavro() throws {
        var encoder = BronzeRecordEncoder(format: .avroConfluent, schemaIds: [.binance: 7, .kraken: 300])
        var values: [(String, [UInt8])] = []
        for (source, frame) in [("binance", binanceWrapped), ("binance", binanceBare), ("kraken", krakenFrame), ("kraken-v2", krakenV2)] {
            try encoder.encode(source: source, stream: "s", payload: frame, receiveTimeNanos: receiveNanos) { record in
                values.append((record.exchange.rawValue + "|" + record.key, Array(record.value)))
            }
        }
        XCTAssertEqual(values.count, 2 + 3 + 2)
        XCTAssertEqual(Array(values[0].1.prefix(5)), [0, 0, 0, 0, 7])
        XCTAssertEqual(Array(values[2].1.prefix(5)), [0, 0, 0, 1, 44])

        let script = """
        import sys, json, io, fastavro
        schemas = {'binance': fastavro.parse_schema(json.loads(sys.argv[1])), 'kraken': fastavro.parse_schema(json.loads(sys.argv[2]))}
        out = []
        for line in sys.stdin.read().split():
            exchange, hexvalue = line.split(':')
            raw = bytes.fromhex(hexvalue)
            assert raw[0] == 0
            buf = io.BytesIO(raw[5:])
            rec = fastavro.schemaless_reader(buf, schemas[exchange])
            assert buf.read() == b'', 'trailing bytes'
            out.append(rec)
        print(json.dumps(out))
        """
        let input = values.map { $0.0.split(separator: "|")[0] + ":" + $0.1.map { String(format: "%02x", $0) }.joined() }
            .joined(separator: "\n")
        let result = try ProcessRunner.python(script, [BronzeSchemas.binanceRawTrade, BronzeSchemas.krakenRawTrade],
                                              stdin: Data(input.utf8))
        XCTAssertEqual(result.status, 0, result.stderrText)
        let rows = try JSONSerialization.jsonObject(with: result.stdout) as! [[String: Any]]
        XCTAssertEqual(rows.count, 7)
        XCTAssertEqual(rows[0]["event_type"] as? String, "trade")
        XCTAssertEqual(rows[0]["event_time_ms"] as? Int, 1707472723123)
        XCTAssertEqual(rows[0]["symbol"] as? String, "BTCUSDT")
        XCTAssertEqual(rows[0]["trade_id"] as? Int, 12345678)
        XCTAssertEqual(rows[0]["price"] as? String, "42150.50")
        XCTAssertEqual(rows[0]["quantity"] as? String, "0.015")
        XCTAssertEqual(rows[0]["trade_time_ms"] as? Int, 1707472723120)
        XCTAssertEqual(rows[0]["is_buyer_maker"] as? Bool, false)
        XCTAssertEqual(rows[0]["is_best_match"] as? Bool, true)
        XCTAssertEqual(rows[0]["ingestion_timestamp"] as? Int, 1_707_472_723_456_789)
        XCTAssertTrue(rows[1]["is_best_match"] is NSNull)
        XCTAssertEqual(rows[2]["channel_id"] as? Int, 0)
        XCTAssertEqual(rows[2]["pair"] as? String, "XBT/USD")
        XCTAssertEqual(rows[3]["price"] as? String, "5542.50000")
        XCTAssertEqual(rows[4]["misc"] as? String, "x")
        XCTAssertEqual(rows[4]["timestamp"] as? String, "1534614058.000001")
        XCTAssertEqual(rows[5]["timestamp"] as? String, "1707472800.123456")
        XCTAssertEqual(rows[5]["side"] as? String, "s")
        XCTAssertEqual(rows[5]["order_type"] as? String, "m")
        XCTAssertEqual(rows[6]["volume"] as? String, "1e-05")
        XCTAssertEqual(rows[6]["timestamp"] as? String, "1707472801.5")
    }

    /// The encoder copies plain string fields straight from the frame; frames with escaped or non-ASCII strings
    /// take the decoding path. Both must give exactly the bytes of `BinanceRawTrade.encode` over the parsed event.
    func testBinanceDirectValueMatchesDecodedEncoding() throws {
        let frames: [String] = [
            String(decoding: binanceWrapped, as: UTF8.self),
            String(decoding: binanceBare, as: UTF8.self),
            #"{"e":"trade","E":-5,"s":"","t":0,"p":"1","q":"2","T":9223372036854775807,"m":true,"M":null}"#,
            #"{"stream":"x","data":{"M":false,"m":false,"T":1,"q":"0.1","p":"9","t":-9223372036854775807,"s":"A","E":64,"e":"trade"}}"#,
            #"{"e":"trade","E":1,"s":"BTC\u0055SDT","t":2,"p":"3.0","q":"4\"","T":5,"m":false}"#,
            #"{"e":"trade","E":1,"s":"ÉTH","t":2,"p":"3.0","q":"4","T":5,"m":false,"M":true}"#,
            #"{"stream":"caf\u00e9","data":{"e":"trade","E":1,"s":"X","t":2,"p":"3","q":"4","T":5,"m":true}}"#,
        ]
        var encoder = BronzeRecordEncoder(format: .avroConfluent, schemaIds: [.binance: 258])
        for frame in frames {
            let bytes = Array(frame.utf8)
            let event = try XCTUnwrap(BinanceTradeEvent.parse(bytes), frame)
            var expected = AvroBinaryEncoder()
            expected.writeRaw([0, 0, 0, 1, 2])
            BinanceRawTrade(event, ingestionTimestamp: receiveNanos / 1000).encode(to: &expected)
            var got: [([UInt8], String)] = []
            let count = try encoder.encode(source: "binance", stream: "s", payload: bytes, receiveTimeNanos: receiveNanos) {
                got.append((Array($0.value), $0.key))
            }
            XCTAssertEqual(count, 1, frame)
            XCTAssertEqual(got.first?.0, expected.bytes, frame)
            XCTAssertEqual(got.first?.1, event.symbol, frame)
        }
        XCTAssertEqual(try BinanceTradeEvent.parse(Array(frames[4].utf8))?.symbol, "BTCUSDT")
        // Not a trade, and the same errors as the decoding parser.
        var skipped: [BronzeSkipReason] = []
        for frame in [#"{"e":"kline","s":"BTCUSDT"}"#, #"{"e":"trade","E":1,"s":"X","t":2,"p":"3","q":"4","T":5}"#,
                      #"{"e":"trade","s":"\x"}"#] {
            XCTAssertEqual(try encoder.encode(source: "binance", stream: "s", payload: Array(frame.utf8), receiveTimeNanos: 0,
                                              skip: { reason, _ in skipped.append(reason) }) { _ in XCTFail(frame) }, 0)
        }
        XCTAssertEqual(skipped, [.notATrade, .malformed, .malformed])
        XCTAssertThrowsError(try BinanceTradeEvent.parse(Array(#"{"e":"trade","E":1,"s":"X","t":2,"p":"3","q":"4","T":5}"#.utf8))) {
            XCTAssertEqual("\($0)", #"Binance trade event without "m" at byte 0"#)
        }
    }

    func testJSONValuesAndDeterminism() throws {
        func encodeAll() throws -> [[UInt8]] {
            var encoder = BronzeRecordEncoder(format: .json)
            var values: [[UInt8]] = []
            for (source, frame) in [("binance", binanceWrapped), ("kraken", krakenFrame)] {
                try encoder.encode(source: source, stream: "s", payload: frame, receiveTimeNanos: receiveNanos) { values.append(Array($0.value)) }
            }
            return values
        }
        let values = try encodeAll()
        XCTAssertEqual(values, try encodeAll())
        XCTAssertEqual(values.count, 4)
        XCTAssertEqual(String(decoding: values[0], as: UTF8.self),
                       #"{"e":"trade","E":1707472723123,"s":"BTCUSDT","t":12345678,"p":"42150.50","q":"0.015","b":88,"a":99,"T":1707472723120,"m":false,"M":true}"#)
        let kraken = try JSONSerialization.jsonObject(with: Data(values[1])) as! [String: Any]
        XCTAssertEqual(kraken["channel_id"] as? Int, 0)
        XCTAssertEqual(kraken["pair"] as? String, "XBT/USD")
        XCTAssertEqual(kraken["volume"] as? String, "0.15850568")
        XCTAssertEqual(kraken["ingestion_timestamp"] as? Int, 1_707_472_723_456_789)
        XCTAssertEqual(kraken.count, 9)
    }

    func testMalformedAndNonTradeFramesAreReportedNotEncoded() throws {
        var encoder = BronzeRecordEncoder(format: .avroConfluent, schemaIds: [.binance: 1])
        var reasons: [BronzeSkipReason] = []
        let count = try encoder.encode(source: "binance", stream: "btcusdt@trade", payload: Array(#"{"e":"trade","#.utf8),
                                       receiveTimeNanos: 0, skip: { reason, _ in reasons.append(reason) }) { _ in XCTFail() }
        XCTAssertEqual(count, 0)
        try encoder.encode(source: "kraken", stream: "XBT/USD", payload: Array(#"{"event":"heartbeat"}"#.utf8),
                           receiveTimeNanos: 0, skip: { reason, _ in reasons.append(reason) }) { _ in XCTFail() }
        XCTAssertEqual(reasons, [.malformed, .notATrade])
        var raw = BronzeRecordEncoder(format: .raw)
        try raw.encode(source: "binance", stream: "btcusdt@trade", payload: binanceWrapped, receiveTimeNanos: 0) { record in
            XCTAssertEqual(record.key, "BTCUSDT")
            XCTAssertEqual(Array(record.value), self.binanceWrapped)
        }
    }

    func testSchemaRegistryRegisterAndLookup() throws {
        let registry = try BackgroundProcess(TestEnvironment.python,
            [TestEnvironment.repositoryRoot.appendingPathComponent("scripts/schema_registry_stub.py").path])
        defer { registry.stop() }
        let url = try XCTUnwrap(registry.firstLine(), registry.log)
        XCTAssertTrue(url.hasPrefix("url="))
        let client = SchemaRegistryClient(baseURL: URL(string: String(url.dropFirst(4)))!)
        XCTAssertThrowsError(try client.latestId(subject: BronzeExchange.binance.subject)) { error in
            XCTAssertTrue("\(error)".contains("404"), "\(error)")
        }
        let binance = try client.register(subject: BronzeExchange.binance.subject, schema: BronzeSchemas.binanceRawTrade)
        let kraken = try client.register(subject: BronzeExchange.kraken.subject, schema: BronzeSchemas.krakenRawTrade)
        XCTAssertNotEqual(binance, kraken)
        XCTAssertEqual(try client.register(subject: BronzeExchange.binance.subject, schema: BronzeSchemas.binanceRawTrade), binance)
        XCTAssertEqual(try client.latestId(subject: "market.crypto.trades.kraken.raw-value"), kraken)
    }

    /// A registry that cannot be reached (nothing listens on the port) is reported at once, naming the URL,
    /// not after retrying for the whole request deadline (30 s).
    func testUnreachableSchemaRegistryFailsAtOnceNamingTheURL() throws {
        // A port nothing listens on: the kernel picked it free a moment ago and nothing binds it.
        let port = try LocalPort.free()

        let client = SchemaRegistryClient(baseURL: URL(string: "http://127.0.0.1:\(port)")!, environment: [:])
        let started = Date()
        XCTAssertThrowsError(try client.latestId(subject: BronzeExchange.binance.subject)) { error in
            XCTAssertTrue("\(error)".contains("http://127.0.0.1:\(port)/subjects/"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "a refused connection should not be retried until the deadline")
    }
}
