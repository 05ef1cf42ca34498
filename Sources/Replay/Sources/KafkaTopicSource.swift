import K2Core
import Kafka
import SegmentLog

/// `--from kafka://HOST:PORT/TOPIC`: reads a range of a topic, partition by partition position, and hands
/// each message to a sink as a Kafka-sourced log record (stream = partition, sequence = offset + 1).
///
/// Range per partition: the `--offsets` ranges (`PartitionOffsetRanges`; `--from-offset` is one open range for
/// every partition), from `--since` on (the first record with that timestamp or later), and after the offset a
/// previous run of the same arguments recorded as done (the ledger); up to the end offset seen at the run's first
/// start or the ranges' last offset (recorded too, so reruns stop at the same place), and with `--until` before
/// the first record at or after that time. Offsets between a partition's ranges are read past, not handed on.
struct KafkaTopicSource {
    let config: KafkaConfig
    let topic: String
    let offsets: PartitionOffsetRanges
    let fromTimeMs: Int64?
    let untilTimeMs: Int64?
    let shard: ReplayShard
    /// The partitions to read; nil: all (of this shard).
    var partitionSelection: Set<Int32>? = nil
    /// Records carry their key and headers (a copy per message): a sink that produces them needs them.
    var carriesKeysAndHeaders = false
    /// The end policy: false, each partition's end offset is fixed (at the first run, in the ledger); true
    /// (`--follow`), no end: the read keeps following the growing topic until a stop request.
    var follow = false
    let stop: CancellationSignal
    var diagnostics: ReplayDiagnostics = { _ in }

    static func key(topic: String, partition: Int32) -> String { "kafka:\(topic)/\(partition)" }

    /// The offsets to read: per partition of this shard with something left, `start..<end`.
    struct Plan {
        var partitionCount: Int32
        var ranges: [(partition: Int32, start: Int64, end: Int64)]
        /// Per partition with gaps in its selection: the offsets within `start..<end` to hand on.
        var selected: [Int32: [OffsetRange]] = [:]
        /// Selected offsets retention (or a delete-records) removed before this run could read them.
        var lostToRetention: [Int32: [OffsetRange]] = [:]
        var records: Int {
            ranges.reduce(0) { total, range in
                total &+ Int(selected[range.partition].map(OffsetRanges.offsetCount) ?? (range.end - range.start))
            }
        }
    }

    /// The selected partitions of this shard (`partition % n == i`) of a topic with `count` partitions.
    func partitions(of count: Int32) -> [Int32] {
        (0..<count).filter {
            shard.contains(partition: $0) && (partitionSelection?.contains($0) ?? true) && offsets.spans(of: $0) != nil
        }
    }

    /// Works out each partition's range from the watermarks, the options and `ledger` (pinning what it
    /// decides there). Offsets retention removed are reported as a warning naming `destination` (where they
    /// will be missing).
    func plan(_ consumer: KafkaConsumer, ledger: KafkaSourceLedger, destination: String) throws -> Plan {
        let counts = try consumer.topics()
        guard let partitionCount = counts[topic] else {
            throw ReplayError.unusable("topic \(topic) does not exist at \(config["bootstrap.servers"] ?? "?")")
        }
        let mine = partitions(of: partitionCount)
        var fromTime: [Int32: Int64?] = [:]
        if let fromTimeMs {
            // Checked against the records: a broker that does not index timestamps (the embedded mock cluster)
            // would otherwise make a --since read silently empty.
            fromTime = try TimestampOffsetLookup.firstOffsets(atOrAfter: fromTimeMs, topic: topic, partitions: mine, config: config) {
                diagnostics(ReplayNote(.notice, "note: \($0)"))
            }
        }
        var plan = Plan(partitionCount: partitionCount, ranges: [])
        for partition in mine {
            let key = Self.key(topic: topic, partition: partition)
            let (low, high) = try consumer.watermarks(topic: topic, partition: partition)
            // The selection on this partition, unclipped below (offsets retention removed stay visible). A rerun
            // resolves `earliest` no later than where the first run went on from, so what retention removed since
            // is reported, not skipped.
            let earliest = ledger.done(key).map { Swift.min(low, $0 + 1) } ?? low
            var wanted = offsets.resolved(partition: partition, low: earliest, high: high)
            if follow {
                // Following: open ranges run on past the current end.
                wanted = OffsetRanges.union((offsets.spans(of: partition) ?? []).compactMap { span in
                    let first: Int64
                    switch span.first {
                    case .earliest: first = earliest
                    case .latest: first = high
                    case .offset(let n): first = n
                    }
                    let last = span.last ?? (Int64.max - 1)
                    return first <= last ? OffsetRange(first, last) : nil
                }, [])
            }
            let end = follow ? Int64.max : ledger.end(key, high: min(high, (wanted.last?.last ?? (high - 1)) + 1))
            var start: Int64
            if let done = ledger.done(key) {
                start = done + 1
            } else {
                start = wanted.first?.first ?? end
                if fromTimeMs != nil { start = max(start, (fromTime[partition] ?? nil) ?? high) }
            }
            wanted = start < end ? OffsetRanges.intersecting(wanted, [OffsetRange(start, end - 1)]) : []
            let (lost, kept) = OffsetRanges.split(wanted, below: low)
            if !lost.isEmpty {
                // Retention (or a delete-records) removed offsets this run should have read: say so, loudly,
                // even with --quiet, since the destination will hold a gap there (k2-verify reports it as missing).
                plan.lostToRetention[partition] = lost
                let text = lost.map { "[\($0.first), \($0.last)]" }.joined(separator: " ")
                diagnostics(ReplayNote(.warning, "warning: \(topic) [\(partition)]: offsets \(text) (\(OffsetRanges.offsetCount(lost)) records) "
                                       + "are no longer in Kafka (its earliest offset is \(low)); they will be missing from \(destination)"))
            }
            start = max(start, low)
            // Pin the start: a rerun of a run that did nothing here yet must begin at the same place.
            if ledger.done(key) == nil { ledger.pinStart(key, start) }
            guard let first = kept.first, let last = kept.last else { continue }
            plan.ranges.append((partition, first.first, last.last + 1))
            if kept.count > 1 { plan.selected[partition] = kept }
        }
        let text = plan.ranges.map { range in
            "[\(range.partition)] " + (plan.selected[range.partition].map { $0.map(\.description).joined(separator: ",") }
                                       ?? "\(range.start)..<" + (range.end == .max ? "(following)" : "\(range.end)"))
        }
        diagnostics(ReplayNote(.info, "reading \(topic): \(text.isEmpty ? "nothing to do" : text.joined(separator: " "))"))
        return plan
    }

    /// Reads `plan`'s ranges, handing each message to `body` in offset order per partition; `tick` runs after
    /// every batch (`idle`: nothing came). Returns the messages read. Stops early when a stop is requested.
    func read(_ consumer: KafkaConsumer, _ plan: Plan, tick: (_ records: Int, _ idle: Bool) throws -> Void,
              _ body: (KafkaMessageView) throws -> Void) throws -> Int {
        guard !plan.ranges.isEmpty else { return 0 }
        try consumer.assign(plan.ranges.map { (topic, $0.partition, .offset($0.start)) })
        // Indexed by partition: end offset (or -1 once the partition is done) for the per-record check.
        var endOf = [Int64](repeating: -1, count: Int(plan.partitionCount))
        for range in plan.ranges { endOf[Int(range.partition)] = range.end }
        // Partitions with gaps in their selection: the ranges, and the index of the one reached.
        var selectedOf = [[OffsetRange]?](repeating: nil, count: Int(plan.partitionCount))
        for (partition, ranges) in plan.selected { selectedOf[Int(partition)] = ranges }
        var cursorOf = [Int](repeating: 0, count: Int(plan.partitionCount))
        var open = plan.ranges.count
        var records = 0
        var idlePolls = 0
        while open > 0 && !stop.isCancelled {
            let events = try consumer.consumeBatch(max: 4096, timeoutMs: 200) { event in
                let message: KafkaMessageView
                switch event {
                case .message(let view):
                    message = view
                case .endOfPartition(let partition, let offset):
                    // Read up to `offset` with no message at end - 1: the range ends in offsets that hold no record
                    // (a transaction's commit marker, aborted records): done.
                    if partition >= 0, Int(partition) < endOf.count, endOf[Int(partition)] >= 0, offset >= endOf[Int(partition)] {
                        endOf[Int(partition)] = -1
                        open -= 1
                    }
                    return
                }
                let partition = message.partition
                guard partition >= 0, Int(partition) < endOf.count else { return }
                let end = endOf[Int(partition)]
                guard end >= 0 else { return }   // not ours, or already at its end
                let offset = message.offset
                if offset >= end || (untilTimeMs.map { message.timestamp.ms >= $0 } ?? false) {
                    endOf[Int(partition)] = -1
                    open -= 1
                    return
                }
                if let selected = selectedOf[Int(partition)] {
                    var cursor = cursorOf[Int(partition)]
                    while cursor < selected.count && selected[cursor].last < offset { cursor += 1 }
                    cursorOf[Int(partition)] = cursor
                    if cursor < selected.count && offset < selected[cursor].first { return }   // between two ranges
                }
                try body(message)
                records += 1
                if offset >= end - 1 {
                    endOf[Int(partition)] = -1
                    open -= 1
                }
            }
            try tick(records, events == 0)
            if events == 0 {
                idlePolls += 1
                if idlePolls >= 300 && !follow {
                    let waiting = endOf.indices.filter { endOf[$0] >= 0 }
                    throw ReplayError.unusable("no records from \(topic) for 60 s while partitions \(waiting) are not at their end offsets")
                }
            } else {
                idlePolls = 0
            }
        }
        return records
    }

    /// Reads `plan`'s ranges into `sink`: each message a data record of stream `P` (the partition number, an
    /// index of `sink.readerStreams`), sequence offset + 1, receive time = its timestamp, with its Kafka
    /// coordinates (key and headers when `carriesKeysAndHeaders`). Returns the records read.
    // Generic, not an existential: the runs pass their concrete sinks, so the per-record call can be specialized.
    func run<Sink: ReplaySink>(_ consumer: KafkaConsumer, _ plan: Plan, into sink: Sink, progress: ProgressReporter) throws -> Int {
        progress.total = follow ? nil : plan.records
        let source = Self.sourceName(topic)
        sink.readerStreams = (0..<plan.partitionCount).map { StreamKey(source: source, stream: String($0)) }
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        return try read(consumer, plan, tick: { records, idle in
            progress.tick(records: records, messages: records, note: sink.progressNote)
            if idle { try sink.idle() }
        }) { message in
            // A null value is written as an empty one (as from a log). The view is built in the call, each branch
            // its own: one value made and dropped per record, no copies (the hot path of a topic backfill).
            if carriesKeysAndHeaders {
                let copy = message.copy()
                _ = try sink.write(view: LogRecordView(
                    kind: .data, flags: [], receiveTimeNanos: copy.timestampMs * 1_000_000, sequence: UInt64(copy.offset + 1),
                    streamIndex: Int(copy.partition), payload: message.value ?? empty,
                    kafka: KafkaCoordinates(partition: copy.partition, offset: copy.offset, timestampMs: copy.timestampMs,
                                            timestampType: copy.timestampType.rawValue, key: copy.key,
                                            headers: copy.headers.map { KafkaHeader(name: $0.name, value: $0.value) }),
                    gapExpected: nil, gapSeen: nil))
            } else {
                let timestamp = message.timestamp
                _ = try sink.write(view: LogRecordView(
                    kind: .data, flags: [], receiveTimeNanos: timestamp.ms * 1_000_000, sequence: UInt64(message.offset + 1),
                    streamIndex: Int(message.partition), payload: message.value ?? empty,
                    kafka: KafkaCoordinates(partition: message.partition, offset: message.offset, timestampMs: timestamp.ms,
                                            timestampType: timestamp.type.rawValue, key: nil),
                    gapExpected: nil, gapSeen: nil))
            }
        }
    }

    /// The log source name of a topic's records: `kafka:TOPIC`.
    static func sourceName(_ topic: String) -> String { "kafka:" + topic }
}
