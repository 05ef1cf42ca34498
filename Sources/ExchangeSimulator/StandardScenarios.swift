import Exchanges

/// The scripted scenarios the tests and the bench use.
public enum StandardScenario: String, Sendable, CaseIterable {
    /// Trades on two instruments with a trade-id gap, several trades per Kraken frame, heartbeats, a ping,
    /// a malformed frame, a forced disconnect, then a gap across the disconnect.
    case standard
    /// Trades, then silence on an open connection (the client's watchdog must reconnect), then more trades.
    case stall
    /// Trades at a steady pace (`--interval`), for make-before-break, metrics and signal tests.
    case continuous
    /// Trades as fast as the connection takes them, for the bench.
    case throughput

    /// Builds the scenario; `count` is the number of trade frames for continuous and throughput.
    public func scenario(feed: ExchangeFeed, count: Int = 1000, intervalNanos: Int64 = 0) -> SimulatorScenario {
        let factory = FrameFactory(feed: feed)
        switch self {
        case .continuous, .throughput:
            let perFrame = feed == .krakenV1 ? 2 : 1
            return SimulatorScenario(feed: feed, count: count, intervalNanos: self == .continuous ? intervalNanos : 0) { index in
                let instrument = index % 2
                if feed == .binance {
                    var bytes: [UInt8] = []
                    factory.appendBinanceTrade(instrument: instrument, tradeId: Int64(1_000_000 + index / 2), index: index, to: &bytes)
                    return .frame(stream: factory.stream(instrument), bytes: bytes)
                }
                let first = Int64(1_000_000 + (index / 2) * perFrame)
                return factory.trade(instrument: instrument, tradeIds: (0..<perFrame).map { first + Int64($0) }, index: index)
            }
        case .standard, .stall:
            var builder = ScriptBuilder(factory: factory)
            builder.trades(12)
            if self == .stall {
                builder.steps.append(.stall)
                builder.trades(8)
                return SimulatorScenario(feed: feed, steps: builder.steps)
            }
            builder.steps.append(.ping(Array("sim-ping-1".utf8)))
            if let heartbeat = factory.heartbeat { builder.steps.append(heartbeat) }
            builder.skip(instrument: 0, ids: 3)
            builder.trades(6)
            builder.steps.append(factory.malformed)
            builder.trades(6)
            builder.steps.append(.disconnect)
            builder.skip(instrument: 1, ids: 5)
            builder.trades(8)
            if let heartbeat = factory.heartbeat { builder.steps.append(heartbeat) }
            builder.trades(4)
            return SimulatorScenario(feed: feed, steps: builder.steps)
        }
    }
}

/// Keeps per-instrument trade ids while a script is written.
struct ScriptBuilder {
    let factory: FrameFactory
    var steps: [SimulatorStep] = []
    var nextIds: [Int64]
    var frames = 0

    init(factory: FrameFactory) {
        self.factory = factory
        nextIds = factory.instruments.indices.map { Int64(5_000_000 + $0 * 1_000_000) }
    }

    /// `count` trade frames alternating instruments; Kraken frames carry 1 to 3 trades.
    mutating func trades(_ count: Int) {
        for _ in 0..<count {
            let instrument = frames % factory.instruments.count
            let perFrame = factory.feed == .binance ? 1 : 1 + frames % 3
            let ids = (0..<perFrame).map { nextIds[instrument] + Int64($0) }
            nextIds[instrument] += Int64(perFrame)
            steps.append(factory.trade(instrument: instrument, tradeIds: ids, index: frames))
            frames += 1
        }
    }

    mutating func skip(instrument: Int, ids: Int64) { nextIds[instrument] += ids }
}
