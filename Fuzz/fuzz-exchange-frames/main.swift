import FuzzSupport
@testable import Exchanges

// One WebSocket frame through every scanner that reads exchange frames: `FrameScanner` for each feed (what
// k2-capture runs on every frame), the Binance trade parse and span scan (`TradeJSONScanner`), and the Kraken
// v1 and v2 trade parsers. The frame is scanned where libFuzzer put it, so a read past its end is an ASan report.
// One property is checked too: the compact Binance scan accepts a frame only when the general scan finds the
// same trade with plain strings (BinanceCompactTradeScan's documented contract).

let scanners = ExchangeFeed.allCases.map { FrameScanner(feed: $0) }

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let frame = UnsafeBufferPointer(start: size > 0 ? data : nil, count: size)
    for scanner in scanners {
        scanner.scan(UnsafeRawBufferPointer(frame))
        if let stream = scanner.stream { precondition(stream.lowerBound >= 0 && stream.upperBound <= size) }
    }
    _ = try? BinanceTradeEvent.parse(frame)
    _ = try? KrakenV1TradeFrame.parse(frame)
    _ = try? KrakenV2TradeMessage.parse(frame)
    var spans = BinanceTradeSpans()
    _ = try? BinanceTradeEvent.scanTrade(frame, into: &spans)
    var compact = BinanceTradeSpans()
    if BinanceCompactTradeScan.scan(frame, into: &compact) {
        var general = BinanceTradeSpans()
        let scan = try? BinanceTradeEvent.scanTradeInAnyLayout(frame, into: &general)
        guard case .trade? = scan, general == compact else {
            preconditionFailure("the compact Binance scan accepted a frame the general scan reads differently")
        }
    }
    return 0
}

FuzzMain.run(testOneInput)
