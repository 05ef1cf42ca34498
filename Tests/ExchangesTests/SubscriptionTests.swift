import K2Core
import XCTest
@testable import Exchanges

final class SubscriptionTests: XCTestCase {
    func testBinanceCombinedStreamURL() throws {
        let streams = try BinanceStreams(symbols: ["BTCUSDT", "ethusdt"], extraStreamTypes: ["aggTrade", "depth@100ms", "bookTicker"])
        XCTAssertEqual(try streams.endpoint().url,
            "wss://stream.binance.com:9443/stream?streams=btcusdt@trade/btcusdt@aggTrade/btcusdt@depth@100ms/btcusdt@bookTicker/ethusdt@trade/ethusdt@aggTrade/ethusdt@depth@100ms/ethusdt@bookTicker")
        let trades = try BinanceStreams(symbols: ["BTCUSDT", "ETHUSDT"])
        XCTAssertEqual(try trades.endpoint(origin: "ws://127.0.0.1:18080").url, "ws://127.0.0.1:18080/stream?streams=btcusdt@trade/ethusdt@trade")
        XCTAssertEqual(trades.subscribeMessage(), #"{"method":"SUBSCRIBE","params":["btcusdt@trade","ethusdt@trade"],"id":1}"#)
        XCTAssertThrowsError(try BinanceStreams(symbols: ["BTC-USDT"]))
        XCTAssertThrowsError(try BinanceStreams(symbols: ["BTCUSDT"], extraStreamTypes: ["nonsense"]))
        XCTAssertThrowsError(try BinanceStreams(symbols: []))
    }

    func testKrakenSubscriptions() throws {
        let v1 = try KrakenSubscription(api: .v1, pairs: ["XBT/USD", "ETH/USD"])
        XCTAssertEqual(try v1.endpoint().url, "wss://ws.kraken.com:443/")
        XCTAssertEqual(v1.subscribeMessage, #"{"event":"subscribe","pair":["XBT/USD","ETH/USD"],"subscription":{"name":"trade"}}"#)
        XCTAssertEqual(v1.sourceName, "kraken")
        let v2 = try KrakenSubscription(api: .v2, pairs: ["BTC/USD"])
        XCTAssertEqual(try v2.endpoint(origin: "wss://localhost:9443").url, "wss://localhost:9443/v2")
        XCTAssertEqual(v2.subscribeMessage, #"{"method":"subscribe","params":{"channel":"trade","symbol":["BTC/USD"]}}"#)
        XCTAssertEqual(v2.sourceName, "kraken-v2")
        XCTAssertThrowsError(try KrakenSubscription(api: .v1, pairs: ["XBTUSD"]))
    }

    func testOriginOverrideReplacesOnlySchemeHostPort() throws {
        let endpoint = WebSocketEndpoint(tls: true, host: "stream.binance.com", port: 9443, target: "/stream?streams=a@trade")
        let local = try endpoint.replacingOrigin("ws://127.0.0.1:1234/")
        XCTAssertEqual(local, WebSocketEndpoint(tls: false, host: "127.0.0.1", port: 1234, target: "/stream?streams=a@trade"))
        XCTAssertEqual(try endpoint.replacingOrigin("wss://[::1]:99").host, "::1")
        XCTAssertEqual(try endpoint.replacingOrigin("wss://example.org").port, 443)
        XCTAssertThrowsError(try endpoint.replacingOrigin("http://127.0.0.1:80"))
        XCTAssertThrowsError(try endpoint.replacingOrigin("ws://127.0.0.1:80/stream"))
        XCTAssertThrowsError(try endpoint.replacingOrigin("ws://127.0.0.1:99999"))
        XCTAssertThrowsError(try endpoint.replacingOrigin("ws://:80"))
    }

    func testJSONQuoting() {
        XCTAssertEqual(JSONText.quoted("a\"b\\c\n\u{01}é"), "\"a\\\"b\\\\c\\n\\u0001é\"")
    }
}
