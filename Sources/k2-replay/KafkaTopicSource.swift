import Bronze
import K2CLI
import Kafka
import SegmentLog

/// What a replay from a Kafka topic keeps between runs, per source partition (key `kafka:TOPIC/P`): the end
/// offset fixed at its first run, and the last offset done. `--to iceberg` keeps them in the table's commits,
/// `--to kafka` in its checkpoint file; either way a rerun reads the same ranges and skips what was done.
protocol KafkaSourceLedger: AnyObject {
    /// The end offset of `key`: the one recorded, or `high` (recorded from now on) when there is none.
    func end(_ key: String, high: Int64) -> Int64
    /// The offset before the first one to read: the last one done (or, before any, `start - 1` as pinned);
    /// nil when nothing is recorded.
    func done(_ key: String) -> Int64?
    /// Records `start` before anything of `key` is read, so a run that gets no further still pins it.
    func pinStart(_ key: String, _ start: Int64)
}

/// `--from kafka://HOST:PORT/TOPIC`: reads a range of a topic, partition by partition position, and hands
/// each message to the caller (`--to iceberg`: as a Kafka-sourced log record, stream = partition, sequence =
/// offset; `--to kafka`: copied to the same partition of the target topic).
///
/// Range per partition: from `--from-offset` (earliest | latest | N) or `--from-time`, or after the offset
/// a previous run of the same arguments recorded as done; up to the end offset seen at the run's first start
/// (recorded too, so reruns stop at the same place), and with `--until-time` before the first record at or
/// after that time.
struct KafkaTopicSource {
    let config: KafkaConfig
    let topic: String
    let fromOffset: String
    let fromTimeMs: Int64?
    let untilTimeMs: Int64?
    let shard: (index: Int, count: Int)

    static func key(topic: String, partition: Int32) -> String { "kafka:\(topic)/\(partition)" }

    /// The offsets to read: per partition of this shard with something left, `start..<end`.
    struct Plan {
        var partitionCount: Int32
        var ranges: [(partition: Int32, start: Int64, end: Int64)]
        var records: Int { ranges.reduce(0) { $0 + Int($1.end - $1.start) } }
    }

    /// The partitions of this shard (`partition % n == i`) of a topic with `count` partitions.
    func partitions(of count: Int32) -> [Int32] { (0..<count).filter { Int($0) % shard.count == shard.index } }

    /// Works out each partition's range from the watermarks, the options and `ledger` (pinning what it
    /// decides there). Offsets retention removed are reported on stderr, even with `quiet`, naming
    /// `destination` (where they will be missing).
    func plan(_ consumer: KafkaConsumer, ledger: KafkaSourceLedger, destination: String, quiet: Bool) throws -> Plan {
        let counts = try consumer.topics()
        guard let partitionCount = counts[topic] else {
            throw ReplayError.unusable("topic \(topic) does not exist at \(config["bootstrap.servers"] ?? "?")")
        }
        let mine = partitions(of: partitionCount)
        var fromTime: [Int32: Int64?] = [:]
        if let fromTimeMs { fromTime = try consumer.offsetsForTimes(topic: topic, partitions: mine, timestampMs: fromTimeMs) }
        var ranges: [(partition: Int32, start: Int64, end: Int64)] = []
        for partition in mine {
            let key = Self.key(topic: topic, partition: partition)
            let (low, high) = try consumer.watermarks(topic: topic, partition: partition)
            let end = ledger.end(key, high: high)
            var start: Int64
            if let done = ledger.done(key) {
                start = done + 1
            } else if fromTimeMs != nil {
                start = (fromTime[partition] ?? nil) ?? high
            } else {
                switch fromOffset {
                case "earliest": start = low
                case "latest": start = high
                default:
                    guard let n = Int64(fromOffset), n >= 0 else { throw ReplayError.usage("--from-offset: earliest, latest or N, got \(fromOffset)") }
                    start = n
                }
            }
            if start < low && start < end {
                // Retention (or a delete-records) removed offsets this run should have read: say so, loudly,
                // even with --quiet, since the destination will hold a gap there (k2-verify reports it as missing).
                let lost = min(low, end) - start
                StandardError.note("warning: \(topic) [\(partition)]: offsets \(start)..<\(min(low, end)) (\(lost) records) are no longer "
                                   + "in Kafka (its earliest offset is \(low)); they will be missing from \(destination)")
            }
            start = max(start, low)
            // Pin the start: a rerun of a run that did nothing here yet must begin at the same place.
            if ledger.done(key) == nil { ledger.pinStart(key, start) }
            if start < end { ranges.append((partition, start, end)) }
        }
        if !quiet {
            let text = ranges.map { "[\($0.partition)] \($0.start)..<\($0.end)" }
            StandardError.note("reading \(topic): \(text.isEmpty ? "nothing to do" : text.joined(separator: " "))")
        }
        return Plan(partitionCount: partitionCount, ranges: ranges)
    }

    /// Reads `plan`'s ranges, handing each message to `body` in offset order per partition; `tick` runs after
    /// every batch (`idle`: nothing came). Returns the messages read. Stops early on SIGINT/SIGTERM.
    func read(_ consumer: KafkaConsumer, _ plan: Plan, tick: (_ records: Int, _ idle: Bool) throws -> Void,
              _ body: (KafkaMessageView) throws -> Void) throws -> Int {
        guard !plan.ranges.isEmpty else { return 0 }
        try consumer.assign(plan.ranges.map { (topic, $0.partition, .offset($0.start)) })
        // Indexed by partition: end offset (or -1 once the partition is done) for the per-record check.
        var endOf = [Int64](repeating: -1, count: Int(plan.partitionCount))
        for range in plan.ranges { endOf[Int(range.partition)] = range.end }
        var open = plan.ranges.count
        var records = 0
        var idlePolls = 0
        while open > 0 && !Signals.shouldStop {
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
                if idlePolls >= 300 {
                    let waiting = endOf.indices.filter { endOf[$0] >= 0 }
                    throw ReplayError.unusable("no records from \(topic) for 60 s while partitions \(waiting) are not at their end offsets")
                }
            } else {
                idlePolls = 0
            }
        }
        return records
    }

    /// `--to iceberg`: reads the partitions' ranges into `sink`, the table's commits being the ledger; returns
    /// the records read. `progress` gets the records to read (the ranges' sizes) and a tick after each batch.
    func run(into sink: IcebergSink, appender: BronzeTableAppender, quiet: Bool, progress: ProgressReporter) throws -> Int {
        let consumer = try KafkaConsumer(config: config, bulkRead: true)
        let plan = try self.plan(consumer, ledger: TableLedger(appender: appender), destination: "table \(appender.table.identifier)",
                                 quiet: quiet)
        progress.total = plan.records
        // The record's source and stream strings, made once (not per record).
        let source = "kafka:" + topic
        let streams: [String] = (0..<plan.partitionCount).map { String($0) }
        return try read(consumer, plan, tick: { records, idle in
            progress.tick(records: records, messages: records, note: sink.progressNote)
            if idle { try sink.tick() }
        }) { message in
            // A null value becomes an empty raw_bytes, as before.
            try sink.writeKafka(source: source, stream: streams[Int(message.partition)], topic: topic, partition: message.partition,
                                offset: message.offset, timestampMs: message.timestamp.ms,
                                value: message.value ?? UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    /// The Bronze table's recorded progress (`k2.replay.*` in its commits) as the ledger.
    private final class TableLedger: KafkaSourceLedger {
        let appender: BronzeTableAppender
        init(appender: BronzeTableAppender) { self.appender = appender }
        func end(_ key: String, high: Int64) -> Int64 {
            appender.fixEnd(key, high)
            return appender.progress.end[key] ?? high
        }
        func done(_ key: String) -> Int64? { appender.progress.done[key] }
        func pinStart(_ key: String, _ start: Int64) { appender.markDone(key, start - 1) }
    }
}
