import XCTest
@testable import Exchanges

final class FrameScannerTests: XCTestCase {
    private func text(_ bytes: [UInt8], _ range: Range<Int>?) -> String? {
        range.map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    private func scan(_ feed: ExchangeFeed, _ frame: String) -> (FrameKind, String?, [(String, Int64)]) {
        let scanner = FrameScanner(feed: feed)
        let bytes = Array(frame.utf8)
        scanner.scan(bytes)
        return (scanner.kind, text(bytes, scanner.stream), scanner.tradeIds.map { (text(bytes, $0.key)!, $0.id) })
    }

    func testBinanceCombinedTrade() {
        let frame = #"{"stream":"btcusdt@trade","data":{"e":"trade","E":1707472723123,"s":"BTCUSDT","t":12345678,"p":"42150.50","q":"0.015","T":1707472723120,"m":false,"M":true}}"#
        let (kind, stream, ids) = scan(.binance, frame)
        XCTAssertEqual(kind, .data)
        XCTAssertEqual(stream, "btcusdt@trade")
        XCTAssertEqual(ids.map(\.0), ["btcusdt@trade"])
        XCTAssertEqual(ids.map(\.1), [12345678])
        // aggTrade has no trade id to check; "T" is not "t".
        let agg = scan(.binance, #"{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","a":5,"T":9,"f":1,"l":2}}"#)
        XCTAssertEqual(agg.1, "btcusdt@aggTrade")
        XCTAssertTrue(agg.2.isEmpty)
        XCTAssertEqual(scan(.binance, #"{"result":null,"id":1}"#).0, .subscriptionReply)
        // A "t" inside a string or a nested object is not the trade id.
        let tricky = scan(.binance, #"{"stream":"x@trade","data":{"e":"trade","x":{"t":5},"s":"\"t\":7","t":8}}"#)
        XCTAssertEqual(tricky.2.map(\.1), [8])
    }

    func testKrakenV1Frames() {
        let trade = scan(.krakenV1, #"[0,[["5541.20000","0.15850568","1534614057.321597","s","l",""],["5541.30000","0.1","1534614057.5","b","m",""]],"trade","XBT/USD"]"#)
        XCTAssertEqual(trade.0, .data)
        XCTAssertEqual(trade.1, "XBT/USD")
        XCTAssertTrue(trade.2.isEmpty)
        XCTAssertEqual(scan(.krakenV1, #"{"event":"heartbeat"}"#).0, .heartbeat)
        let reply = scan(.krakenV1, #"{"channelID":10001,"channelName":"trade","event":"subscriptionStatus","pair":"XBT/USD","status":"subscribed","subscription":{"name":"trade"}}"#)
        XCTAssertEqual(reply.0, .subscriptionReply)
        XCTAssertEqual(reply.1, "XBT/USD")
        XCTAssertEqual(scan(.krakenV1, #"{"connectionID":1,"event":"systemStatus","status":"online","version":"1.9.0"}"#).0, .status)
    }

    func testKrakenV2Frames() {
        let frame = #"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy","price":42150.5,"qty":0.01,"ord_type":"market","trade_id":4665906,"timestamp":"2024-02-09T10:00:00.123456Z"},{"symbol":"BTC/USD","side":"sell","price":42150.4,"qty":0.02,"ord_type":"limit","trade_id":4665907,"timestamp":"2024-02-09T10:00:00.123457Z"}]}"#
        let trade = scan(.krakenV2, frame)
        XCTAssertEqual(trade.0, .data)
        XCTAssertEqual(trade.1, "BTC/USD")
        XCTAssertEqual(trade.2.map(\.0), ["BTC/USD", "BTC/USD"])
        XCTAssertEqual(trade.2.map(\.1), [4665906, 4665907])
        XCTAssertEqual(scan(.krakenV2, #"{"channel":"heartbeat"}"#).0, .heartbeat)
        XCTAssertEqual(scan(.krakenV2, #"{"channel":"status","data":[{"system":"online"}],"type":"update"}"#).0, .status)
        XCTAssertEqual(scan(.krakenV2, #"{"method":"subscribe","result":{"channel":"trade","symbol":"BTC/USD"},"success":true}"#).0, .subscriptionReply)
        // Another channel's data carries no trade ids.
        XCTAssertTrue(scan(.krakenV2, #"{"channel":"book","data":[{"symbol":"BTC/USD","trade_id":1}]}"#).2.isEmpty)
    }

    func testMalformedFrames() {
        let bad = [
            #"{"stream":"btcusdt@trade","data":{"e":"trade","#, "", " ", "{", "[1,]", #"{"a":1,}"#, "01", "1.", "-",
            #"{"a":tru}"#, "\"\u{01}\"", #""\x""#, "[1] [2]", #"{"a" 1}"#, "nul", "1e", #""\u12G4""#,
        ]
        for feed in ExchangeFeed.allCases {
            for frame in bad {
                XCTAssertEqual(scan(feed, frame).0, .malformed, "\(feed) \(frame.debugDescription)")
            }
        }
        // Invalid UTF-8 in a string: a lone continuation byte, an overlong, a surrogate.
        let scanner = FrameScanner(feed: .binance)
        for bytes: [UInt8] in [[0x22, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22]] {
            scanner.scan(bytes)
            XCTAssertEqual(scanner.kind, .malformed, "\(bytes)")
        }
        scanner.scan(Array("\"é€😀\"".utf8))
        XCTAssertNotEqual(scanner.kind, .malformed)
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        XCTAssertEqual(scan(.binance, deep).0, .malformed)
        for good in ["0", "-0.5e+10", "[]", "{}", " {\"a\":[null,true,false,\"\\u00e9\\n\"]} ", "12345678901234567890"] {
            XCTAssertNotEqual(scan(.krakenV1, good).0, .malformed, good)
        }
    }

    func testGapDetector() {
        var detector = GapDetector<String>()
        XCTAssertEqual(detector.observe("a", id: 10), .first)
        XCTAssertEqual(detector.observe("a", id: 11), .next)
        XCTAssertEqual(detector.observe("b", id: 5), .first)
        XCTAssertEqual(detector.observe("a", id: 15), .gap(expected: 12, seen: 15))
        XCTAssertEqual(detector.observe("a", id: 13), .repeated)
        XCTAssertEqual(detector.observe("a", id: 16), .next)
        XCTAssertEqual(detector.lastId("a"), 16)
    }
}
