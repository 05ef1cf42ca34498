import Exchanges
import NIOCore
import SegmentLog

/// Turns received messages into segment-log records: the frame byte-exact with its receive time, a gap record
/// before a frame whose trade id jumps, the connection's control records. Confined to the capture's event loop.
final class FrameRecorder {
    /// Stream name of records that belong to the connection rather than a market stream (connect, disconnect,
    /// a reply or status naming no pair, a malformed frame).
    static let connectionStream = "@connection"

    let writer: SegmentLogWriter
    let source: String
    let maxFrameBytes: Int
    let metrics: CaptureMetrics
    private let scanner: FrameScanner
    private var streams = StreamTable()
    private var gaps = GapDetector<Int>()
    private var lastTimeNanos: Int64 = 0
    private let connectionIndex: Int
    private var pendingGaps: [(key: Int, expected: Int64, seen: Int64)] = []

    init(writer: SegmentLogWriter, feed: ExchangeFeed, maxFrameBytes: Int, metrics: CaptureMetrics) {
        self.writer = writer
        self.source = feed.sourceName
        self.scanner = FrameScanner(feed: feed)
        self.maxFrameBytes = maxFrameBytes
        self.metrics = metrics
        connectionIndex = streams.index(of: FrameRecorder.connectionStream)
        metrics.ensure(connectionIndex)
        pendingGaps.reserveCapacity(8)
    }

    var streamNames: [String] { streams.names }

    /// Receive times are strictly increasing within a capture, so the log's time order is arrival order.
    private func nextTime() -> Int64 {
        let now = WallClock.nanoseconds()
        lastTimeNanos = now > lastTimeNanos ? now : lastTimeNanos + 1
        return lastTimeNanos
    }

    /// Records one message exactly as received; returns the kind the scanner gave it.
    @discardableResult
    func record(message: ByteBuffer) throws -> FrameKind {
        let receiveTime = nextTime()
        var flags: RecordFlags = []
        var kind: FrameKind = .data
        var streamIndex = connectionIndex
        pendingGaps.removeAll(keepingCapacity: true)
        if message.readableBytes > maxFrameBytes {
            flags.insert(.oversized)
        } else {
            message.withUnsafeReadableBytes { bytes in
                scanner.scan(bytes)
                kind = scanner.kind
                if kind == .malformed { flags.insert(.malformed); return }
                if let range = scanner.stream { streamIndex = streams.index(of: range, in: bytes) }
                for trade in scanner.tradeIds {
                    let key = streams.index(of: trade.key, in: bytes)
                    if case .gap(let expected, let seen) = gaps.observe(key, id: trade.id) {
                        pendingGaps.append((key, expected, seen))
                    }
                }
            }
        }
        metrics.ensure(streams.count - 1)
        for gap in pendingGaps {
            let payload = Array("{\"expected\":\(gap.expected),\"seen\":\(gap.seen)}".utf8)
            try writer.append(LogRecord(kind: .gap, receiveTimeNanos: receiveTime, source: source, stream: streams.names[gap.key],
                                        payload: payload, gapExpected: gap.expected, gapSeen: gap.seen))
            metrics.streams[gap.key].gaps += 1
            metrics.streams[gap.key].missingIds += gap.seen - gap.expected
        }
        let payload = Array(message.readableBytesView)
        let recordKind: RecordKind = kind == .subscriptionReply ? .subscribeReply : .data
        try writer.append(LogRecord(kind: recordKind, flags: flags, receiveTimeNanos: pendingGaps.isEmpty ? receiveTime : nextTime(),
                                    source: source, stream: streams.names[streamIndex], payload: payload))
        var counters = metrics.streams[streamIndex]
        counters.messages += 1
        counters.bytes += Int64(payload.count)
        counters.lastReceiveNanos = receiveTime
        if flags.contains(.malformed) { counters.malformed += 1 }
        if flags.contains(.oversized) { counters.oversized += 1 }
        metrics.streams[streamIndex] = counters
        if kind == .subscriptionReply { metrics.subscriptionReplies += 1 }
        return kind
    }

    func recordConnect(url: String, connection: Int) throws {
        let payload = "{\"url\":\(JSONText.quoted(url)),\"connection\":\(connection)}"
        try writer.append(LogRecord(kind: .connect, receiveTimeNanos: nextTime(), source: source,
                                    stream: FrameRecorder.connectionStream, payload: Array(payload.utf8)))
    }

    func recordDisconnect(reason: String, connection: Int) throws {
        let payload = "{\"reason\":\(JSONText.quoted(reason)),\"connection\":\(connection)}"
        try writer.append(LogRecord(kind: .disconnect, receiveTimeNanos: nextTime(), source: source,
                                    stream: FrameRecorder.connectionStream, payload: Array(payload.utf8)))
    }
}
