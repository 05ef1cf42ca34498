import MetricsEndpoint
import Prometheus
import Foundation
import K2CLI
import K2Core
import Kafka
import NIOCore
import NIOPosix
import SegmentLog

/// Backs up a Kafka topic into a segment log: one stream per partition (source `kafka:<topic>`, stream the
/// partition number), each record's partition, offset, timestamp (and type), key, headers and value kept.
public enum KafkaCaptureRunner {
    public enum Start: Sendable, Equatable {
        /// After the last offset the log already holds for each partition; the beginning for a partition it
        /// holds nothing of. The log is the checkpoint: a capture stopped at any point (SIGKILL included) and
        /// started again continues with the first record it did not keep, so each offset is kept once.
        case resume
        /// Each partition's first (earliest kept) or next (latest) offset: `--from-offset earliest|latest`.
        case earliest, latest, offset(Int64), time(epochMilliseconds: Int64)
        /// `--offsets`: only these offsets of the partitions they select. A partition the log already holds
        /// offsets of continues after the last one kept (within the ranges), so a rerun keeps each offset once.
        case ranges(PartitionOffsetRanges)
    }

    public enum Until: Sendable, Equatable {
        /// Keep consuming (until a limit or a signal).
        case forever
        /// Stop each partition at its high watermark as of the start.
        case end
        /// Stop each partition before the first offset whose timestamp is at or after this time.
        case time(epochMilliseconds: Int64)
    }

    public struct Settings: Sendable {
        public var bootstrap: String
        public var topic: String
        public var partitions: [Int32]?
        public var start: Start = .resume
        public var until: Until = .forever
        /// librdkafka properties (SASL, TLS), merged from `-X` and the environment (`KafkaProperties`).
        public var properties: [(key: String, value: String)] = []
        /// Receives librdkafka's own log lines; nil leaves them to librdkafka's default logger.
        public var logHandler: (@Sendable (KafkaLogLine) -> Void)?

        public init(bootstrap: String, topic: String) {
            self.bootstrap = bootstrap
            self.topic = topic
        }
    }

    /// The `--offsets` spans of partition `p` holding `low..<high`, in order; a nil `last` is open (followed).
    static func spans(_ ranges: PartitionOffsetRanges, partition p: Int32, low: Int64, high: Int64) -> [(first: Int64, last: Int64?)] {
        (ranges.spans(of: p) ?? []).compactMap { span in
            let first: Int64
            switch span.first {
            case .earliest: first = low
            case .latest: first = high
            case .offset(let n): first = n
            }
            if let last = span.last, last < first { return nil }
            return (first, span.last)
        }
    }

    /// `spans` without the offsets up to `kept` (what the log already holds).
    static func after(_ kept: Int64, _ spans: [(first: Int64, last: Int64?)]) -> [(first: Int64, last: Int64?)] {
        spans.compactMap { span in
            if let last = span.last, last <= kept { return nil }
            return (max(span.first, kept + 1), span.last)
        }
    }

    public static func run(_ settings: Settings, options: CaptureOptions) -> CaptureSummary {
        let started = WallClock.monotonicNanoseconds()
        let source = "kafka:\(settings.topic)"
        var summary = CaptureSummary.notStarted(source: source, directory: options.directory, url: "kafka://\(settings.bootstrap)/\(settings.topic)")
        // The log first: its recovery decides where a resumed capture continues.
        guard let writer = options.openLog(recordingFailureIn: &summary) else { return summary }
        // Everything up to the first consumed record: failures here are "could not start" (exit 2).
        let consumer: KafkaConsumer
        var ends: [Int32: Int64] = [:]   // partition → first offset not to record
        var selected: [Int32: [(first: Int64, last: Int64?)]] = [:]   // partitions with gaps between their --offsets ranges
        var partitions: [Int32]
        do {
            var config = KafkaConfig([("bootstrap.servers", settings.bootstrap)])
            for (key, value) in settings.properties { config.set(key, value) }
            config.logHandler = settings.logHandler
            consumer = try KafkaConsumer(config: config)
            guard let count = try consumer.topics()[settings.topic] else {
                throw KafkaError(message: "topic \(settings.topic) does not exist on \(settings.bootstrap)")
            }
            let all = Array(0..<count)
            partitions = settings.partitions ?? all
            if case .ranges(let ranges) = settings.start { partitions = partitions.filter { ranges.spans(of: $0) != nil } }
            if let missing = partitions.first(where: { !all.contains($0) }) {
                throw KafkaError(message: "topic \(settings.topic) has no partition \(missing) (it has \(count))")
            }
            var starts: [Int32: KafkaStartOffset] = [:]
            switch settings.start {
            case .resume:
                let kept = try lastOffsets(in: options.directory, source: source, writer: writer)
                for p in partitions {
                    if let offset = kept[p] {
                        starts[p] = .offset(offset + 1)
                        CaptureLog.info("resume", [("partition", p), ("offset", offset + 1)])
                    } else {
                        starts[p] = .beginning
                    }
                }
            case .earliest: for p in partitions { starts[p] = .beginning }
            case .latest: for p in partitions { starts[p] = .end }
            case .offset(let offset): for p in partitions { starts[p] = .offset(offset) }
            case .ranges(let ranges):
                let kept = try lastOffsets(in: options.directory, source: source, writer: writer)
                for p in partitions {
                    let (low, high) = try consumer.watermarks(topic: settings.topic, partition: p)
                    var wanted = Self.spans(ranges, partition: p, low: low, high: high)
                    if let last = kept[p] { wanted = Self.after(last, wanted) }
                    guard let first = wanted.first else { ends[p] = 0; starts[p] = .offset(0); continue }
                    starts[p] = .offset(max(first.first, low))
                    if wanted.allSatisfy({ $0.last != nil }) { ends[p] = wanted.compactMap(\.last).max()! + 1 }
                    if wanted.count > 1 { selected[p] = wanted }
                    if let last = kept[p] { CaptureLog.info("resume", [("partition", p), ("offset", last + 1)]) }
                }
            case .time(let ms):
                let found = try TimestampOffsetLookup.firstOffsets(atOrAfter: ms, topic: settings.topic, partitions: partitions,
                                                                   config: config) { CaptureLog.info("time-lookup", [("note", $0)]) }
                for p in partitions { starts[p] = (found[p] ?? nil).map { .offset($0) } ?? .end }
            }
            switch settings.until {
            case .forever: break
            case .end:
                for p in partitions {
                    let high = try consumer.watermarks(topic: settings.topic, partition: p).high
                    ends[p] = min(ends[p] ?? high, high)
                }
            case .time(let ms):
                let found = try TimestampOffsetLookup.firstOffsets(atOrAfter: ms, topic: settings.topic, partitions: partitions,
                                                                   config: config) { CaptureLog.info("time-lookup", [("note", $0)]) }
                for p in partitions {
                    let end: Int64
                    if let offset = found[p] ?? nil { end = offset } else { end = try consumer.watermarks(topic: settings.topic, partition: p).high }
                    ends[p] = min(ends[p] ?? end, end)
                }
            }
            // A partition already at its end needs no consuming at all.
            var assignment: [(topic: String, partition: Int32, start: KafkaStartOffset)] = []
            for p in partitions {
                if let end = ends[p], case .offset(let start) = starts[p]!, start >= end { continue }
                if let end = ends[p], end == 0 { continue }
                assignment.append((settings.topic, p, starts[p]!))
            }
            try consumer.assign(assignment)
            partitions = assignment.map(\.partition)
        } catch {
            try? writer.close()
            summary.error = "\(error)"
            CaptureLog.error("start-failed", [("topic", settings.topic), ("error", "\(error)")])
            return summary
        }
        CaptureLog.info("consuming", [("topic", settings.topic), ("partitions", partitions.map(String.init).joined(separator: ","))])

        let state = KafkaCaptureState(source: source)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        var server: MetricsHTTPServer?
        if let (host, port) = options.metricsAddress {
            do {
                server = try MetricsHTTPServer.start(on: group.next(), host: host, port: port) { state.renderMetrics() }
                if let server {
                    CaptureLog.info("metrics-listening", [("url", "http://\(host):\(server.port)/metrics")])
                    options.onMetricsListening?(server.port)
                }
            } catch {
                CaptureLog.error("metrics-failed", [("address", "\(host):\(port)"), ("error", "\(error)")])
            }
        }
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM]) { number in state.requestStop(number) }
        defer { signals.cancel() }

        var open = Set(partitions)
        var lastTime: Int64 = 0
        var messages: Int64 = 0
        var stop: String?
        var failure: String?
        let deadline = options.durationNanos.map { WallClock.monotonicNanoseconds() + $0 }
        while stop == nil {
            if open.isEmpty { stop = settings.until == .forever && !ends.values.contains(where: { $0 > 0 }) ? "partitions-empty" : "until"; break }
            if state.signalled { stop = "signal"; break }
            if let deadline, WallClock.monotonicNanoseconds() >= deadline { stop = "duration"; break }
            let events: [KafkaConsumerEvent]
            do { events = try consumer.consumeBatch(max: 1000, timeoutMs: 200) } catch {
                failure = "\(error)"
                stop = "consume-failed"
                break
            }
            for event in events {
                switch event {
                case .endOfPartition(_, let partition, let offset):
                    if let end = ends[partition], offset >= end { open.remove(partition) }
                case .message(let message):
                    guard open.contains(message.partition) else { continue }
                    if let end = ends[message.partition], message.offset >= end { open.remove(message.partition); continue }
                    if let wanted = selected[message.partition],
                       !wanted.contains(where: { message.offset >= $0.first && message.offset <= ($0.last ?? Int64.max) }) {
                        continue   // between two of the partition's --offsets ranges
                    }
                    let now = WallClock.nanoseconds()
                    lastTime = now > lastTime ? now : lastTime + 1
                    let value = message.value ?? []
                    let record = LogRecord(
                        kind: .data, receiveTimeNanos: lastTime, source: source, stream: String(message.partition), payload: value,
                        kafka: KafkaCoordinates(partition: message.partition, offset: message.offset, timestampMs: message.timestampMs,
                                                timestampType: message.timestampType.rawValue, key: message.key,
                                                headers: message.headers.map { KafkaHeader(name: $0.name, value: $0.value) }))
                    do { try writer.append(record) } catch {
                        failure = "cannot write the segment log in \(options.directory): \(error)"
                        stop = "write-failed"
                        break
                    }
                    state.count(partition: message.partition, bytes: value.count, at: lastTime)
                    messages += 1
                    if let end = ends[message.partition], message.offset + 1 >= end { open.remove(message.partition) }
                    if let limit = options.maxMessages, messages >= limit { stop = "max-messages" }
                }
                if stop != nil { break }
            }
        }
        server?.close()
        var closeError: String?
        do { try writer.close() } catch { closeError = "\(error)" }
        summary.stopReason = stop ?? "until"
        switch summary.stopReason {
        case "signal": summary.exitCode = K2ExitCode.interrupted.rawValue
        case "write-failed", "consume-failed": summary.exitCode = K2ExitCode.failure.rawValue; summary.error = failure
        default: summary.exitCode = K2ExitCode.success.rawValue
        }
        if let closeError {
            summary.exitCode = K2ExitCode.failure.rawValue
            summary.error = (summary.error.map { $0 + "; " } ?? "") + "closing the segment log in \(options.directory) failed: \(closeError)"
        }
        summary.durationSeconds = Double(WallClock.monotonicNanoseconds() - started) / 1e9
        let lastSequences = writer.lastSequences
        summary.streams = state.snapshot().map { partition, counters in
            CaptureSummary.Stream(stream: String(partition), topic: settings.topic, partition: partition, messages: counters.messages, bytes: counters.bytes, gaps: 0, missingIds: 0,
                                  malformed: 0, oversized: 0,
                                  lastSequence: lastSequences[StreamKey(source: source, stream: String(partition))] ?? 0)
        }
        summary.messages = messages
        summary.bytes = summary.streams.reduce(0) { $0 + $1.bytes }
        return summary
    }
}

extension KafkaCaptureRunner {
    /// Partition → the offset of the last record of `source` the log in `directory` holds (its last sequence
    /// per stream, found through the block index, not a scan).
    static func lastOffsets(in directory: String, source: String, writer: SegmentLogWriter) throws -> [Int32: Int64] {
        var result: [Int32: Int64] = [:]
        for (key, sequence) in writer.lastSequences where key.source == source && sequence > 0 {
            guard let partition = Int32(key.stream) else { continue }
            var selection = ReadSelection()
            selection.sources = [source]
            selection.streams = [key.stream]
            selection.fromSequence = sequence
            let reader = try SegmentLogReader(directory: directory, selection: selection) { _ in }
            while let record = try reader.next() {
                if let offset = record.kafka?.offset { result[partition] = max(result[partition] ?? offset, offset) }
            }
        }
        return result
    }
}

/// Counters shared between the consuming thread, the metrics endpoint and the signal handler.
final class KafkaCaptureState: @unchecked Sendable {
    private let lock = NSLock()
    private let source: String
    private var counters: [Int32: CaptureMetrics.StreamCounters] = [:]
    private var stopSignal: Int32?

    private let registry = PrometheusCollectorRegistry()
    private let export: CaptureMetricsExport

    init(source: String) {
        self.source = source
        export = CaptureMetricsExport(factory: DescribedPrometheusMetricsFactory(registry: registry, help: CaptureMetrics.help), source: source)
    }

    func count(partition: Int32, bytes: Int, at time: Int64) {
        lock.lock()
        var c = counters[partition] ?? CaptureMetrics.StreamCounters()
        c.messages += 1
        c.bytes += Int64(bytes)
        c.lastReceiveNanos = time
        counters[partition] = c
        lock.unlock()
    }

    func requestStop(_ number: Int32) {
        lock.lock()
        stopSignal = number
        lock.unlock()
    }

    var signalled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopSignal != nil
    }

    func snapshot() -> [(Int32, CaptureMetrics.StreamCounters)] {
        lock.lock()
        defer { lock.unlock() }
        return counters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The counters as swift-prometheus's text (each partition is a stream).
    func renderMetrics() -> String {
        lock.lock()
        defer { lock.unlock() }
        let now = WallClock.nanoseconds()
        for (partition, counters) in counters { export.publish(stream: String(partition), counters, nowNanos: now) }
        return registry.emitToString()
    }
}

extension KafkaCaptureRunner {
    /// librdkafka's own log lines as the capture's log lines (JSON on stderr, event `kafka`), not raw text.
    @Sendable public static func log(_ line: KafkaLogLine) {
        let fields: [(String, Any)] = [("facility", line.facility), ("client", line.clientName), ("message", line.message)]
        if line.isError { CaptureLog.error("kafka", fields) } else if line.isWarning { CaptureLog.warn("kafka", fields) } else { CaptureLog.info("kafka", fields) }
    }
}
