import Exchanges

/// Builds realistic frames deterministically (same index, same bytes), in the exact shapes of docs/k2-platform.md §1.
public struct FrameFactory: Sendable {
    public let feed: ExchangeFeed
    /// Binance symbols (`BTCUSDT`) or Kraken pairs (`XBT/USD` for v1, `BTC/USD` for v2).
    public let instruments: [String]

    /// Per Binance instrument, the constant text around the event time and the trade id, so a throughput run
    /// writes a frame's bytes directly instead of building a String.
    private let binanceHeads: [[UInt8]]
    private let binanceSymbols: [[UInt8]]
    private let streams: [String]

    public init(feed: ExchangeFeed, instruments: [String]? = nil) {
        self.feed = feed
        switch feed {
        case .binance: self.instruments = instruments ?? ["BTCUSDT", "ETHUSDT"]
        case .krakenV1: self.instruments = instruments ?? ["XBT/USD", "ETH/USD"]
        case .krakenV2: self.instruments = instruments ?? ["BTC/USD", "ETH/USD"]
        }
        let names = self.instruments
        streams = names.map { feed == .binance ? $0.lowercased() + "@trade" : $0 }
        binanceHeads = names.map { Array("{\"stream\":\"\($0.lowercased())@trade\",\"data\":{\"e\":\"trade\",\"E\":".utf8) }
        binanceSymbols = names.map { Array(",\"s\":\"\($0)\",\"t\":".utf8) }
    }

    /// The stream name k2-capture records a trade frame of `instrument` under.
    public func stream(_ instrument: Int) -> String { streams[instrument] }

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
            var bytes: [UInt8] = []
            appendBinanceTrade(instrument: instrument, tradeId: tradeIds[0], index: index, to: &bytes)
            return .frame(stream: stream(instrument), bytes: bytes)
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

    /// Appends a Binance trade frame, the same bytes as `trade(instrument:tradeIds:index:)` gives, without
    /// building a String (about a tenth of the cost: the simulator must outrun the capture in `make bench`).
    public func appendBinanceTrade(instrument: Int, tradeId id: Int64, index: Int, to out: inout [UInt8]) {
        let timeMs: Int64 = 1_707_472_723_000 + Int64(index) * 7
        out.reserveCapacity(out.count + 256)
        out.append(contentsOf: binanceHeads[instrument])
        Self.appendInteger(timeMs + 3, to: &out)
        out.append(contentsOf: binanceSymbols[instrument])
        Self.appendInteger(id, to: &out)
        Self.appendASCII(",\"p\":\"", to: &out)
        Self.appendDecimal(4_215_050 + Int64(index % 97), scale: 2, to: &out)
        Self.appendASCII("\",\"q\":\"", to: &out)
        Self.appendDecimal(15 + Int64(index % 13) * 1000, scale: 3, to: &out)
        Self.appendASCII("\",\"b\":", to: &out)
        Self.appendInteger(88_000_000 + id * 2, to: &out)
        Self.appendASCII(",\"a\":", to: &out)
        Self.appendInteger(88_000_001 + id * 2, to: &out)
        Self.appendASCII(",\"T\":", to: &out)
        Self.appendInteger(timeMs, to: &out)
        Self.appendASCII(index % 3 == 0 ? ",\"m\":true,\"M\":true}}" : ",\"m\":false,\"M\":true}}", to: &out)
    }

    private static func appendASCII(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Decimal digits of a non-negative integer (what `"\(value)"` writes).
    private static func appendInteger(_ value: Int64, to out: inout [UInt8]) {
        precondition(value >= 0)
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[(20 - count)...]))
        }
    }

    /// `units / 10^scale` with exactly `scale` fraction digits (what `decimal(_:scale:)` writes).
    private static func appendDecimal(_ units: Int64, scale: Int, to out: inout [UInt8]) {
        var power: Int64 = 1
        for _ in 0..<scale { power *= 10 }
        appendInteger(units / power, to: &out)
        out.append(UInt8(ascii: "."))
        var fraction = units % power
        var divisor = power / 10
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(fraction / divisor))
            fraction %= divisor
            divisor /= 10
        }
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
