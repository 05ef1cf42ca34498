import Bronze
import K2CLI
import Kafka
import SegmentLog

/// `--from kafka://HOST:PORT/TOPIC`: reads a range of a topic, partition by partition position, and hands
/// each record to the sink as a Kafka-sourced log record (stream = partition, sequence = offset).
///
/// Range per partition: from `--from-offset` (earliest | latest | N) or `--from-time`, or after the offset
/// a previous run of the same arguments committed; up to the end offset seen at the run's first start
/// (recorded in the commits, so reruns stop at the same place), and with `--until-time` before the first
/// record at or after that time.
struct KafkaTopicSource {
    let config: KafkaConfig
    let topic: String
    let fromOffset: String
    let fromTimeMs: Int64?
    let untilTimeMs: Int64?
    let shard: (index: Int, count: Int)

    static func key(topic: String, partition: Int32) -> String { "kafka:\(topic)/\(partition)" }

    /// Reads the partitions' ranges into `sink`; returns the records read. `progress` gets the records to read
    /// (the ranges' sizes) and a tick after each batch.
    func run(into sink: IcebergSink, appender: BronzeTableAppender, quiet: Bool, progress: ProgressReporter) throws -> Int {
        let consumer = try KafkaConsumer(config: config, bulkRead: true)
        let counts = try consumer.topics()
        guard let partitionCount = counts[topic] else {
            throw ReplayError.unusable("topic \(topic) does not exist at \(config["bootstrap.servers"] ?? "?")")
        }
        let mine = (0..<partitionCount).filter { Int($0) % shard.count == shard.index }
        var fromTime: [Int32: Int64?] = [:]
        if let fromTimeMs { fromTime = try consumer.offsetsForTimes(topic: topic, partitions: Array(mine), timestampMs: fromTimeMs) }
        var assignment: [(topic: String, partition: Int32, start: KafkaStartOffset)] = []
        var ends: [Int32: Int64] = [:]
        var toRead = 0   // at most: --until-time may stop a partition before its end offset
        for partition in mine {
            let key = Self.key(topic: topic, partition: partition)
            let (low, high) = try consumer.watermarks(topic: topic, partition: partition)
            appender.fixEnd(key, high)
            let end = appender.progress.end[key] ?? high
            var start: Int64
            if let done = appender.progress.done[key] {
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
                // even with --quiet, since the table will hold a gap there (k2-verify reports it as missing).
                let lost = min(low, end) - start
                StandardError.note("warning: \(topic) [\(partition)]: offsets \(start)..<\(min(low, end)) (\(lost) records) are no longer "
                                   + "in Kafka (its earliest offset is \(low)); they will be missing from table \(appender.table.identifier)")
            }
            start = max(start, low)
            if appender.progress.done[key] == nil {
                // Pin the start: a rerun of a run that committed nothing here yet must begin at the same place.
                appender.markDone(key, start - 1)
            }
            if start < end {
                assignment.append((topic, partition, .offset(start)))
                ends[partition] = end
                toRead += Int(end - start)
            }
        }
        if !quiet {
            let plan = ends.keys.sorted().map { p in "[\(p)] \(assignment.first { $0.partition == p }.map { "\($0.start)" } ?? "")..<\(ends[p]!)" }
            StandardError.note("reading \(topic): \(plan.isEmpty ? "nothing to do" : plan.joined(separator: " "))")
        }
        progress.total = toRead
        guard !assignment.isEmpty else { return 0 }
        try consumer.assign(assignment)
        // The record's source and stream strings, made once (not per record).
        let source = "kafka:" + topic
        let streams: [String] = (0..<partitionCount).map { String($0) }
        // Indexed by partition: end offset (or -1 once the partition is done) for the per-record check.
        var endOf = [Int64](repeating: -1, count: Int(partitionCount))
        for (partition, end) in ends { endOf[Int(partition)] = end }
        var open = ends.count
        var records = 0
        var idlePolls = 0
        while open > 0 && !Signals.shouldStop {
            let events = try consumer.consumeBatch(max: 4096, timeoutMs: 200) { event in
                guard case .message(let message) = event else { return }
                let partition = message.partition
                guard partition >= 0, Int(partition) < endOf.count else { return }
                let end = endOf[Int(partition)]
                guard end >= 0 else { return }   // not ours, or already at its end
                let offset = message.offset
                let timestampMs = message.timestamp.ms
                if offset >= end || (untilTimeMs.map { timestampMs >= $0 } ?? false) {
                    endOf[Int(partition)] = -1
                    open -= 1
                    return
                }
                // A null value becomes an empty raw_bytes, as before.
                try sink.writeKafka(source: source, stream: streams[Int(partition)], topic: topic, partition: partition,
                                    offset: offset, timestampMs: timestampMs,
                                    value: message.value ?? UnsafeRawBufferPointer(start: nil, count: 0))
                records += 1
                if offset >= end - 1 {
                    endOf[Int(partition)] = -1
                    open -= 1
                }
            }
            progress.tick(records: records, messages: records, note: sink.progressNote)
            if events == 0 {
                idlePolls += 1
                try sink.tick()
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
}
