import Exchanges
import K2Core
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
    /// The log's stream for each entry of `streams`, same index.
    private var logStreams: [SegmentLogWriter.Stream] = []

    init(writer: SegmentLogWriter, feed: ExchangeFeed, maxFrameBytes: Int, metrics: CaptureMetrics) {
        self.writer = writer
        self.source = feed.sourceName
        self.scanner = FrameScanner(feed: feed)
        self.maxFrameBytes = maxFrameBytes
        self.metrics = metrics
        connectionIndex = streams.index(of: FrameRecorder.connectionStream)
        metrics.ensure(connectionIndex)
        logStreams.append(writer.stream(source: source, stream: FrameRecorder.connectionStream))
    }

    var streamNames: [String] { streams.names }

    /// Receive time of the last record (the stall watchdog's clock for the connection that delivered it).
    var lastReceiveTimeNanos: Int64 { lastTimeNanos }

    /// Receive times are strictly increasing within a capture, so the log's time order is arrival order.
    private func nextTime() -> Int64 {
        let now = WallClock.nanoseconds()
        lastTimeNanos = now > lastTimeNanos ? now : lastTimeNanos + 1
        return lastTimeNanos
    }

    /// The stream table's index of the name at `range` of the frame, its log stream and counters made ready.
    private func streamIndex(_ range: Range<Int>, in bytes: UnsafeRawBufferPointer) -> Int {
        let index = streams.index(of: range, in: bytes)
        if index == logStreams.count {
            logStreams.append(writer.stream(source: source, stream: streams.names[index]))
            metrics.ensure(index)
        }
        return index
    }

    /// The stream index (as in `streamNames`) of the message `record(message:)` recorded last.
    private(set) var lastStreamIndex = 0

    /// Records one message exactly as received; returns the kind the scanner gave it. The frame's bytes go from
    /// the receive buffer into the log's open block without an intermediate copy or any allocation.
    @discardableResult
    func record(message: ByteBuffer) throws -> FrameKind {
        try message.withUnsafeReadableBytes { bytes in
            var receiveTime = nextTime()
            var flags: RecordFlags = []
            var kind: FrameKind = .data
            var streamIndex = connectionIndex
            if bytes.count > maxFrameBytes {
                flags.insert(.oversized)
            } else {
                scanner.scan(bytes)
                kind = scanner.kind
                if kind == .malformed {
                    flags.insert(.malformed)
                } else {
                    if let range = scanner.stream { streamIndex = self.streamIndex(range, in: bytes) }
                    var sawGap = false
                    for trade in scanner.tradeIds {
                        let key = self.streamIndex(trade.key, in: bytes)
                        if case .gap(let expected, let seen) = gaps.observe(key, id: trade.id) {
                            try recordGap(stream: key, expected: expected, seen: seen, receiveTime: receiveTime)
                            sawGap = true
                        }
                    }
                    // The frame comes after its gap records in the log's time order too.
                    if sawGap { receiveTime = nextTime() }
                }
            }
            let recordKind: RecordKind = kind == .subscriptionReply ? .subscribeReply : .data
            try writer.appendFrame(recordKind, flags: flags, receiveTimeNanos: receiveTime, payload: bytes, to: logStreams[streamIndex])
            metrics.recordMessage(stream: streamIndex, bytes: bytes.count, receiveTimeNanos: receiveTime, flags: flags)
            lastStreamIndex = streamIndex
            if kind == .subscriptionReply { metrics.subscriptionReplies += 1 }
            return kind
        }
    }

    /// Continues the gap detection of the capture that wrote this log before (a restart after SIGKILL, a crash
    /// or a stop): each stream's last trade id, read from its last `tail` data records (the writer has already
    /// cut a torn tail), so the first frame of this run whose id jumps gets a gap record naming the ids no
    /// capture recorded in between. Returns how many streams it continued. Call before the first frame.
    @discardableResult
    func continueGapDetection(directory: String, tail: UInt64 = 64) throws -> Int {
        var selection = ReadSelection()
        selection.sources = [source]
        selection.kinds = [.data]
        for (key, last) in writer.sequencesAtOpen where key.source == source {
            selection.resumeAfter[key] = last > tail ? last - tail : 0
        }
        guard !selection.resumeAfter.isEmpty else { return 0 }
        let reader = try SegmentLogReader(directory: directory, selection: selection) { _ in }
        var continued = Set<Int>()
        while let record = try reader.next() {
            if record.receiveTimeNanos > lastTimeNanos { lastTimeNanos = record.receiveTimeNanos }
            record.payload.withUnsafeBytes { bytes in
                scanner.scan(bytes)
                guard scanner.kind != .malformed else { return }
                for trade in scanner.tradeIds {
                    let key = streamIndex(trade.key, in: bytes)
                    _ = gaps.observe(key, id: trade.id)
                    continued.insert(key)
                }
            }
        }
        return continued.count
    }

    private func recordGap(stream index: Int, expected: Int64, seen: Int64, receiveTime: Int64) throws {
        let payload = Array("{\"expected\":\(expected),\"seen\":\(seen)}".utf8)
        try writer.append(LogRecord(kind: .gap, receiveTimeNanos: receiveTime, source: source, stream: streams.names[index],
                                    payload: payload, gapExpected: expected, gapSeen: seen))
        metrics.streams[index].gaps += 1
        metrics.streams[index].missingIds += seen - expected
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
