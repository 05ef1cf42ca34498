import Exchanges

/// Builds realistic frames deterministically (same index, same bytes), in the exact shapes of CONTRACTS.md §1.
public struct FrameFactory: Sendable {
    public let feed: ExchangeFeed
    /// Binance symbols (`BTCUSDT`) or Kraken pairs (`XBT/USD` for v1, `BTC/USD` for v2).
    public let instruments: [String]

    public init(feed: ExchangeFeed, instruments: [String]? = nil) {
        self.feed = feed
        switch feed {
        case .binance: self.instruments = instruments ?? ["BTCUSDT", "ETHUSDT"]
        case .krakenV1: self.instruments = instruments ?? ["XBT/USD", "ETH/USD"]
        case .krakenV2: self.instruments = instruments ?? ["BTC/USD", "ETH/USD"]
        }
    }

    /// The stream name k2-capture records a trade frame of `instrument` under.
    public func stream(_ instrument: Int) -> String {
        feed == .binance ? instruments[instrument].lowercased() + "@trade" : instruments[instrument]
    }

    private func decimal(_ units: Int64, scale: Int) -> String {
        var fraction = String(units % Int64(pow10(scale)))
        while fraction.count < scale { fraction = "0" + fraction }
        return "\(units / Int64(pow10(scale))).\(fraction)"
    }

    private func pow10(_ n: Int) -> Int { (0..<n).reduce(1) { acc, _ in acc * 10 } }

    /// A trade frame; `tradeIds` are the trades it carries (Binance: exactly one), `index` varies prices and times.
    public func trade(instrument: Int, tradeIds: [Int64], index: Int) -> SimulatorStep {
        let name = instruments[instrument]
        let timeMs: Int64 = 1_707_472_723_000 + Int64(index) * 7
        var text: String
        switch feed {
        case .binance:
            let id = tradeIds[0]
            text = "{\"stream\":\"\(stream(instrument))\",\"data\":{\"e\":\"trade\",\"E\":\(timeMs + 3),\"s\":\"\(name)\",\"t\":\(id),"
                + "\"p\":\"\(decimal(4_215_050 + Int64(index % 97), scale: 2))\",\"q\":\"\(decimal(15 + Int64(index % 13) * 1000, scale: 3))\","
                + "\"b\":\(88_000_000 + id * 2),\"a\":\(88_000_001 + id * 2),\"T\":\(timeMs),\"m\":\(index % 3 == 0),\"M\":true}}"
        case .krakenV1:
            let trades = tradeIds.enumerated().map { offset, _ -> String in
                let i = index + offset
                let micros = Int64(1_534_614_057_321_597) + Int64(i) * 1_013
                return "[\"\(decimal(554_120_000 + Int64(i % 89) * 1000, scale: 5))\",\"\(decimal(15_850_568 + Int64(i % 7), scale: 8))\","
                    + "\"\(decimal(micros, scale: 6))\",\"\(i % 2 == 0 ? "s" : "b")\",\"\(i % 5 == 0 ? "m" : "l")\",\"\"]"
            }
            text = "[\(100 + instrument),[\(trades.joined(separator: ","))],\"trade\",\"\(name)\"]"
        case .krakenV2:
            let trades = tradeIds.enumerated().map { offset, id -> String in
                let i = index + offset
                let micros = 123_456 + (i % 800_000)
                return "{\"symbol\":\"\(name)\",\"side\":\"\(i % 2 == 0 ? "buy" : "sell")\",\"price\":\(decimal(4_215_050 + Int64(i % 97), scale: 1)),"
                    + "\"qty\":\(decimal(1_000 + Int64(i % 13), scale: 8)),\"ord_type\":\"\(i % 5 == 0 ? "limit" : "market")\",\"trade_id\":\(id),"
                    + "\"timestamp\":\"2024-02-09T10:00:\(10 + i % 40).\(micros)Z\"}"
            }
            text = "{\"channel\":\"trade\",\"type\":\"update\",\"data\":[\(trades.joined(separator: ","))]}"
        }
        return .frame(stream: stream(instrument), bytes: Array(text.utf8))
    }

    /// A keep-alive frame as the exchange sends it (Binance has none: it pings).
    public var heartbeat: SimulatorStep? {
        switch feed {
        case .binance: return nil
        case .krakenV1: return .frame(stream: "", bytes: Array(#"{"event":"heartbeat"}"#.utf8))
        case .krakenV2: return .frame(stream: "", bytes: Array(#"{"channel":"heartbeat"}"#.utf8))
        }
    }

    /// A frame cut short in the middle (not valid JSON).
    public var malformed: SimulatorStep {
        switch feed {
        case .binance: return .frame(stream: "", bytes: Array(#"{"stream":"btcusdt@trade","data":{"e":"trade","E":17074727"#.utf8))
        case .krakenV1: return .frame(stream: "", bytes: Array(#"[100,[["5541.20000","0.158"#.utf8))
        case .krakenV2: return .frame(stream: "", bytes: Array(#"{"channel":"trade","type":"update","data":[{"symbol":"BTC"#.utf8))
        }
    }
}
