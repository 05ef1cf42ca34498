import ExchangeSimulator
import Foundation
import XCTest

/// The simulator writes Binance trade frames byte by byte (for `make bench`); they must be the exact text a
/// String formatter gives and parse as Binance's trade event.
final class FrameFactoryTests: XCTestCase {
    func testBinanceTradeBytesMatchTheFormattedText() throws {
        let factory = FrameFactory(feed: .binance)
        for index in [0, 1, 2, 3, 12, 96, 97, 98, 1_000, 99_999, 1_999_999] {
            let instrument = index % 2
            let id = Int64(1_000_000 + index / 2)
            guard case .frame(let stream, let bytes) = factory.trade(instrument: instrument, tradeIds: [id], index: index) else {
                return XCTFail("not a frame")
            }
            var direct: [UInt8] = []
            factory.appendBinanceTrade(instrument: instrument, tradeId: id, index: index, to: &direct)
            XCTAssertEqual(direct, bytes)

            // Reference text by String interpolation and number formatting, independent of the byte writer.
            let symbol = ["BTCUSDT", "ETHUSDT"][instrument]
            let timeMs = 1_707_472_723_000 + Int64(index) * 7
            let price = String(format: "%.2f", Double(4_215_050 + index % 97) / 100)
            let quantity = String(format: "%.3f", Double(15 + (index % 13) * 1000) / 1000)
            let expected = "{\"stream\":\"\(symbol.lowercased())@trade\",\"data\":{\"e\":\"trade\",\"E\":\(timeMs + 3),\"s\":\"\(symbol)\","
                + "\"t\":\(id),\"p\":\"\(price)\",\"q\":\"\(quantity)\",\"b\":\(88_000_000 + id * 2),\"a\":\(88_000_001 + id * 2),"
                + "\"T\":\(timeMs),\"m\":\(index % 3 == 0),\"M\":true}}"
            XCTAssertEqual(String(decoding: bytes, as: UTF8.self), expected)
            XCTAssertEqual(stream, "\(symbol.lowercased())@trade")

            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            let data = try XCTUnwrap(object["data"] as? [String: Any])
            XCTAssertEqual((data["t"] as? NSNumber)?.int64Value, id)
            XCTAssertEqual(data["p"] as? String, price)
        }
    }
}
