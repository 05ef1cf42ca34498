import Foundation
import SegmentLog
import TestSupport
import XCTest

/// The byte scanner agrees with a JSON parser on every bundled fixture frame.
final class TradeIdScannerTests: XCTestCase {
    private func lines(_ path: String) throws -> [[UInt8]] {
        let url = TestEnvironment.repositoryRoot.appendingPathComponent(path)
        return try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { Array($0.utf8) }
    }

    func testBinanceFramesYieldTheirTradeId() throws {
        var ids: [Int64] = []
        let frames = try lines("fixtures/binance/combined-trades.jsonl")
        XCTAssertGreaterThan(frames.count, 100)
        for frame in frames {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(frame)) as? [String: Any])
            let data = try XCTUnwrap(object["data"] as? [String: Any])
            TradeIdScanner.tradeIds(in: frame, into: &ids)
            XCTAssertEqual(ids, [(data["t"] as! NSNumber).int64Value])
        }
        TradeIdScanner.tradeIds(in: Array(#"{"result":null,"id":1}"#.utf8), into: &ids)
        XCTAssertEqual(ids, [])
    }

    func testKrakenV2TradeMessagesYieldEveryTradeIdAndV1None() throws {
        var ids: [Int64] = []
        var multi = 0
        for frame in try lines("fixtures/kraken/v2-frames.jsonl") {
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(frame)) as? [String: Any])
            TradeIdScanner.tradeIds(in: frame, into: &ids)
            if object["channel"] as? String == "trade" {
                let expected = (object["data"] as! [[String: Any]]).map { ($0["trade_id"] as! NSNumber).int64Value }
                XCTAssertEqual(ids, expected)
                if expected.count > 1 { multi += 1 }
            } else {
                XCTAssertEqual(ids, [], String(decoding: frame, as: UTF8.self))
            }
        }
        XCTAssertGreaterThan(multi, 0, "the fixtures include messages with several trades")
        for frame in try lines("fixtures/kraken/v1-frames.jsonl") {
            TradeIdScanner.tradeIds(in: frame, into: &ids)
            XCTAssertEqual(ids, [])
        }
    }
}
