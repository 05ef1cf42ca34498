import K2Core
/// The Binance Spot streams one combined-stream connection carries (docs/k2-platform.md §1):
/// `wss://stream.binance.com:9443/stream?streams=btcusdt@trade/ethusdt@trade`.
public struct BinanceStreams: Sendable, Equatable {
    public static let defaultEndpoint = WebSocketEndpoint(tls: true, host: "stream.binance.com", port: 9443, target: "/stream")
    public static let sourceName = "binance"
    /// Stream types `--streams` accepts besides `trade` (the suffix after `symbol@`).
    public static let knownStreamTypes: Set<String> = [
        "trade", "aggTrade", "bookTicker", "depth", "depth@100ms", "depth@1000ms",
        "depth5", "depth10", "depth20", "depth5@100ms", "depth10@100ms", "depth20@100ms",
        "miniTicker", "ticker", "kline_1s", "kline_1m", "kline_5m", "kline_1h",
    ]

    /// Upper-case symbols as given (`BTCUSDT`).
    public let symbols: [String]
    /// Stream types per symbol, `trade` first.
    public let streamTypes: [String]

    public init(symbols: [String], extraStreamTypes: [String] = []) throws {
        let cleaned = symbols.map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        guard !cleaned.isEmpty else { throw StreamSpecError("give at least one symbol (--symbols BTCUSDT,ETHUSDT)") }
        for symbol in cleaned where !symbol.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("a"..."z").contains($0) || ("0"..."9").contains($0) }) {
            throw StreamSpecError("symbol '\(symbol)' must be letters and digits only (e.g. BTCUSDT)")
        }
        var types = ["trade"]
        for type in extraStreamTypes.map({ $0.trimmingCharacters(in: " ") }) where !type.isEmpty && !types.contains(type) {
            guard BinanceStreams.knownStreamTypes.contains(type) else {
                throw StreamSpecError("unknown Binance stream type '\(type)'; known: \(BinanceStreams.knownStreamTypes.sorted().joined(separator: ", "))")
            }
            types.append(type)
        }
        self.symbols = cleaned.map { $0.uppercased() }
        self.streamTypes = types
    }

    /// `btcusdt@trade`, `btcusdt@aggTrade`, ... symbol-major.
    public var streamNames: [String] {
        symbols.flatMap { symbol in streamTypes.map { "\(symbol.lowercased())@\($0)" } }
    }

    /// The combined-stream request target, `/stream?streams=btcusdt@trade/ethusdt@trade`.
    public var combinedTarget: String { "/stream?streams=" + streamNames.joined(separator: "/") }

    /// The endpoint for the combined stream, optionally with another origin (`--url`).
    public func endpoint(origin: String? = nil) throws -> WebSocketEndpoint {
        var endpoint = BinanceStreams.defaultEndpoint
        endpoint.target = combinedTarget
        return try origin.map { try endpoint.replacingOrigin($0) } ?? endpoint
    }

    /// The `/ws` alternative: `{"method":"SUBSCRIBE","params":[...],"id":1}` (reply `{"result":null,"id":1}`).
    public func subscribeMessage(id: Int = 1) -> String {
        "{\"method\":\"SUBSCRIBE\",\"params\":\(JSONText.array(streamNames)),\"id\":\(id)}"
    }
}

public struct StreamSpecError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    func trimmingCharacters(in set: Character) -> String {
        var slice = Substring(self)
        while slice.first == set { slice.removeFirst() }
        while slice.last == set { slice.removeLast() }
        return String(slice)
    }
}
