import K2Core
/// Kraken's WebSocket APIs: v1 (`wss://ws.kraken.com`, the API K2 uses) and v2 (`wss://ws.kraken.com/v2`).
public enum KrakenAPI: String, Sendable, CaseIterable {
    case v1, v2
}

/// A Kraken trade subscription: the endpoint and the subscribe message sent once the WebSocket is open.
public struct KrakenSubscription: Sendable, Equatable {
    public let api: KrakenAPI
    /// Pairs as Kraken names them: `XBT/USD` (v1) or `BTC/USD` (v2).
    public let pairs: [String]

    public init(api: KrakenAPI, pairs: [String]) throws {
        let cleaned = pairs.map { $0.trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
        guard !cleaned.isEmpty else { throw StreamSpecError("give at least one pair (--pairs XBT/USD,ETH/USD)") }
        for pair in cleaned where !pair.contains("/") {
            throw StreamSpecError("pair '\(pair)' must be BASE/QUOTE, e.g. XBT/USD")
        }
        self.api = api
        self.pairs = cleaned
    }

    /// The segment-log source name: `kraken` for v1, `kraken-v2` for v2.
    public var sourceName: String { api == .v1 ? "kraken" : "kraken-v2" }

    public func endpoint(origin: String? = nil) throws -> WebSocketEndpoint {
        let endpoint = WebSocketEndpoint(tls: true, host: "ws.kraken.com", port: 443, target: api == .v1 ? "/" : "/v2")
        return try origin.map { try endpoint.replacingOrigin($0) } ?? endpoint
    }

    /// v1: `{"event":"subscribe","pair":[...],"subscription":{"name":"trade"}}`;
    /// v2: `{"method":"subscribe","params":{"channel":"trade","symbol":[...]}}`.
    public var subscribeMessage: String {
        switch api {
        case .v1: return "{\"event\":\"subscribe\",\"pair\":\(JSONText.array(pairs)),\"subscription\":{\"name\":\"trade\"}}"
        case .v2: return "{\"method\":\"subscribe\",\"params\":{\"channel\":\"trade\",\"symbol\":\(JSONText.array(pairs))}}"
        }
    }
}
