import Foundation
import TestSupport
import XCTest
@testable import Exchanges

/// Frames an exchange never sends but a capture may hold: each is refused with an error, never a crash.
final class HostileFrameTests: XCTestCase {
    static let depth = 100_000
    static let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)

    func refused(_ frame: [UInt8], _ parse: ([UInt8]) throws -> Any?, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let parsed = try parse(frame)
            XCTAssertNil(parsed, "a nested frame parsed as a trade", file: file, line: line)
        } catch let error as ExchangeFrameError {
            XCTAssertTrue(error.message.contains("nested"), error.message, file: file, line: line)
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
        }
    }

    /// A value nested 100,000 arrays deep overflowed the stack in `TradeJSONScanner.skipValue`, so a capture
    /// holding one such frame could not be replayed at all.
    func testValuesNestedHundredThousandDeepAreRefusedNotACrash() throws {
        let fixture = TestEnvironment.repositoryRoot.appendingPathComponent("fixtures/hostile/binance-frame-nested-100000.json")
        refused(Array(try Data(contentsOf: fixture)), BinanceTradeEvent.parse)
        let binance = #"{"stream":"btcusdt@trade","data":{"e":"trade","X":\#(Self.nested),"E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}}"#
        refused(Array(binance.utf8), BinanceTradeEvent.parse)
        let krakenV1 = #"[0,[["5541.2","0.1","1534614057.3","s","l",\#(Self.nested)]],"trade","XBT/USD"]"#
        refused(Array(krakenV1.utf8), KrakenV1TradeFrame.parse)
        let krakenV2 = #"{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","extra":\#(Self.nested)}]}"#
        refused(Array(krakenV2.utf8), KrakenV2TradeMessage.parse)
        // Ordinary nesting still parses.
        let fine = #"{"stream":"btcusdt@trade","data":{"e":"trade","X":[[[1]]],"E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","T":1,"m":true}}"#
        XCTAssertNotNil(try BinanceTradeEvent.parse(Array(fine.utf8)))
    }
}
