import Exchanges

/// One step of what the simulated exchange does, in order, across all its connections.
public enum SimulatorStep: Sendable {
    /// Send a text frame to every subscribed connection that wants `stream` ("" = every subscribed connection).
    case frame(stream: String, bytes: [UInt8])
    /// Send a ping with this payload.
    case ping([UInt8])
    /// Drop every connection abruptly (TCP close, no close frame); the script continues on the next connection.
    case disconnect
    /// Stop sending on the current connections without closing them; the script continues on the next connection.
    case stall
    /// Wait before the next step.
    case pause(milliseconds: Int)
    /// Wait until this many connections (counting closed ones) have subscribed, e.g. a client's replacement
    /// connection, so a test of a handover does not depend on how fast the client opens it.
    case awaitConnections(Int)
}

/// A script of steps, generated on demand so a throughput run needs no memory per frame.
public struct SimulatorScenario: Sendable {
    public let feed: ExchangeFeed
    public let count: Int
    /// Delay between steps (0: as fast as the connection takes them).
    public var intervalNanos: Int64
    private let generate: @Sendable (Int) -> SimulatorStep

    public init(feed: ExchangeFeed, count: Int, intervalNanos: Int64 = 0, generate: @escaping @Sendable (Int) -> SimulatorStep) {
        self.feed = feed
        self.count = count
        self.intervalNanos = intervalNanos
        self.generate = generate
    }

    public init(feed: ExchangeFeed, steps: [SimulatorStep], intervalNanos: Int64 = 0) {
        self.init(feed: feed, count: steps.count, intervalNanos: intervalNanos) { steps[$0] }
    }

    public func step(_ index: Int) -> SimulatorStep { generate(index) }

    /// Frames from a JSONL fixture (one frame per line, sent byte-exact); the stream of each is found the way
    /// k2-capture finds it.
    public static func fixture(feed: ExchangeFeed, lines: [[UInt8]], intervalNanos: Int64 = 0) -> SimulatorScenario {
        let scanner = FrameScanner(feed: feed)
        let steps: [SimulatorStep] = lines.map { line in
            scanner.scan(line)
            let stream = scanner.stream.map { String(decoding: line[$0], as: UTF8.self) } ?? ""
            return .frame(stream: scanner.kind == .data ? stream : "", bytes: line)
        }
        return SimulatorScenario(feed: feed, steps: steps, intervalNanos: intervalNanos)
    }
}
