import Foundation
import Bronze
import K2CLI
import Kafka
import SegmentLog

/// `k2-replay --from kafka://HOST:PORT/TOPIC --to kafka`: a range of a topic copied into Kafka. Each message
/// goes to the same partition number of the target topic (`--topic`, else the source topic's name, on the
/// `--bootstrap` cluster) with its key, value, timestamp and headers: what replaying a log that
/// `k2-capture kafka` recorded from the topic would produce, without the log.
///
/// It is that replay, record for record: each source partition is a stream of the checkpoint (source
/// `kafka:TOPIC`, stream = partition number, sequence = offset + 1, so points order as offsets do), and
/// delivery, resume and the checks against a re-created topic are `KafkaSink`'s (docs/replay.md). What the
/// log fixes by itself is fixed in the checkpoint instead: each source partition's range (`source_ranges`),
/// in the checkpoint's first write, before anything is produced, so a rerun reads the same offsets whatever the
/// watermarks say by then. A rerun reads each partition from after its stream's last acknowledged message (or
/// from the batch to recheck) rather than from the range's start.
struct KafkaCopyReplay {
    let command: ReplayCommand
    let sourceBootstrap: String
    let sourceTopic: String

    func run() throws {
        let options = command.iceberg
        if command.source != nil || command.symbols != nil || command.since != nil || command.until != nil {
            throw ReplayError.usage("--source, --symbols, --since and --until select log streams; a Kafka source is selected with "
                                    + "--from-offset, --from-time, --until-time and --shard")
        }
        if !["earliest", "latest"].contains(options.fromOffset) && (Int64(options.fromOffset) ?? -1) < 0 {
            throw ReplayError.usage("--from-offset: earliest, latest or N, got \(options.fromOffset)")
        }
        let (kafkaConfig, embedded) = try command.kafkaClient()
        defer { withExtendedLifetime(embedded) {} }
        // -X applies to both clusters (security settings, say); the source is read with the bulk-read prefetch.
        var sourceConfig = kafkaConfig
        sourceConfig.set("bootstrap.servers", sourceBootstrap)
        let consumer = try KafkaConsumer(config: sourceConfig, bulkRead: true)
        guard let partitionCount = try consumer.topics()[sourceTopic] else {
            throw ReplayError.unusable("topic \(sourceTopic) does not exist at \(sourceBootstrap)")
        }
        guard let sourceCluster = consumer.clusterId() else {
            throw ReplayError.unusable("Kafka at \(sourceBootstrap) reports no cluster id, which names this replay's checkpoint")
        }
        let (shardIndex, shardCount) = try options.shardParts()
        let source = KafkaTopicSource(
            config: sourceConfig, topic: sourceTopic, fromOffset: options.fromOffset,
            fromTimeMs: try Self.milliseconds(options.fromTime, "--from-time"),
            untilTimeMs: try Self.milliseconds(options.untilTime, "--until-time"), shard: (shardIndex, shardCount))
        let sourceName = "kafka:" + sourceTopic
        // Every source partition, so a target topic created here gets as many (at least --partitions).
        let streams = (0..<partitionCount).map { StreamKey(source: sourceName, stream: String($0)) }
        let router = KafkaTargetRouter(topicOverride: command.topic, partitionCounts: [:], defaultPartitions: command.partitions)
        let targetTopic = router.topic(forKafkaSource: sourceName)
        // Before anything is written (a checkpoint naming the target's partitions would outlive the fix).
        if let targetPartitions = try KafkaConsumer(config: kafkaConfig).topics()[targetTopic], targetPartitions < partitionCount {
            throw ReplayError.unusable("topic \(targetTopic) has \(targetPartitions) partitions, fewer than the \(partitionCount) of "
                                       + "\(sourceTopic): each message goes to its own partition number; add partitions or choose --topic")
        }
        let rangeText = "from-offset=\(options.fromOffset)&from-time=\(options.fromTime ?? "")&until-time=\(options.untilTime ?? "")"
            + "&shard=\(shardIndex)/\(shardCount)"
        var ranges = KafkaTopicSource.Plan(partitionCount: partitionCount, ranges: [])
        let target = try command.openKafkaTarget(kafkaConfig, embedded: embedded, router: router, streams: streams, identity: { clusterId in
            if clusterId == sourceCluster && targetTopic == sourceTopic {
                throw ReplayError.usage("--from kafka://\(sourceBootstrap)/\(sourceTopic) and the target are the same topic of the same "
                                        + "cluster (\(clusterId)): give --topic to copy it elsewhere")
            }
            // The source by cluster id, not address, with everything that decides the range.
            return ReplayIdentity(log: "kafka://\(sourceCluster)/\(sourceTopic)?\(rangeText)", sources: nil, symbols: nil, sinceNanos: nil,
                                  untilNanos: nil, format: "kafka", schemaIds: [:], topic: command.topic, clusterId: clusterId)
        }, sourceRanges: { checkpoint in
            let ledger = CheckpointLedger(checkpoint, source: sourceName, topic: sourceTopic)
            ranges = try source.plan(consumer, ledger: ledger, destination: "topic \(targetTopic)", quiet: command.quiet)
            return ledger.ranges
        })
        let sourceLabel = "kafka://\(sourceBootstrap)/\(sourceTopic)"
        let sink = try KafkaSink(
            producer: target.producer, format: .raw, schemaIds: [:], router: target.router, pacer: command.pacer(),
            logPath: sourceLabel, provenance: command.provenance, plan: target.plan, store: target.store,
            checkpointIntervalSeconds: command.checkpointInterval,
            sourceMessage: { try Self.message(at: $0, topic: sourceTopic, config: sourceConfig) }, readsAfterAcknowledged: true)

        let progress = ProgressReporter(total: ranges.records, enabled: !command.quiet)
        let partitionNames = (0..<partitionCount).map { String($0) }   // made once: the sink compares them per record
        var record = LogRecord(receiveTimeNanos: 0, source: sourceName, stream: "", payload: [])
        let records = try source.read(consumer, ranges, tick: { records, _ in
            progress.tick(records: records, messages: records, note: sink.progressNote)
        }) { view in
            let message = view.copy()
            record.stream = partitionNames[Int(message.partition)]
            record.sequence = UInt64(message.offset + 1)
            record.receiveTimeNanos = message.timestampMs * 1_000_000   // what --speed follows
            record.payload = message.value ?? []   // a null value is produced as an empty one (as from a log)
            record.kafka = KafkaCoordinates(partition: message.partition, offset: message.offset, timestampMs: message.timestampMs,
                                            timestampType: message.timestampType.rawValue, key: message.key,
                                            headers: message.headers.map { KafkaHeader(name: $0.name, value: $0.value) })
            _ = try sink.write(record)
        }
        try command.finish(sink, records: records, messages: records, seconds: { progress.elapsedSeconds })
    }

    private static func milliseconds(_ text: String?, _ option: String) throws -> Int64? {
        guard let text else { return nil }
        guard let nanos = TimeParser.epochNanoseconds(text) else { throw ReplayError.usage("\(option): not a time: \(text)") }
        return nanos / 1_000_000
    }

    /// The source message at a checkpoint's last point (offset = sequence - 1), as it was produced.
    static func message(at last: ReplayCheckpoint.LastMessage, topic: String, config: KafkaConfig) throws -> KafkaSink.SourceLookup {
        guard let partition = Int32(last.stream), last.at.sequence > 0 else { return .absent }
        let offset = Int64(last.at.sequence) - 1
        let consumer = try KafkaConsumer(config: config)
        let (low, high) = try consumer.watermarks(topic: topic, partition: partition)
        if offset < low { return .removedByRetention }
        guard offset < high else { return .absent }
        try consumer.assign([(topic, partition, .offset(offset))])
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            switch try consumer.poll(timeoutMs: 1000) {
            case .message(let message)?:
                guard message.partition == partition else { continue }
                // Another offset: the one asked for holds no record (a transaction marker), so not this replay's.
                return message.offset == offset ? .found((message.key, message.value ?? [], message.timestampMs)) : .absent
            case .endOfPartition(_, let p, _)?:
                if p == partition { return .absent }
            case nil:
                continue
            }
        }
        throw ReplayError.unusable("resume: no answer within 30 s reading \(topic) [\(partition)] offset \(offset)")
    }
}

/// The Kafka source's ledger kept in the replay's checkpoint: the ranges fixed by the first run, and where a
/// rerun reads each partition from: after its stream's last acknowledged message, or from the batch to recheck
/// (acknowledged messages whose offsets in the target were not known, which the sink finds there first).
/// Partitions the source gained after the first run are not read: their range is empty, as the end offsets
/// seen at that run's start say.
final class CheckpointLedger: KafkaSourceLedger {
    private var starts: [String: Int64] = [:]
    private var ends: [String: Int64] = [:]
    private var resumeAfter: [String: Int64] = [:]
    /// A rerun: the ranges were fixed before.
    private let fixed: Bool

    init(_ checkpoint: ReplayCheckpoint?, source: String, topic: String) {
        fixed = checkpoint?.sourceRanges != nil
        for (key, range) in checkpoint?.sourceRanges ?? [:] {
            starts[key] = range.start
            ends[key] = range.end
        }
        for partition in checkpoint?.partitions ?? [] {
            for stream in partition.streams where stream.source == source {
                guard let acknowledged = stream.acknowledged, let number = Int32(stream.stream) else { continue }
                // Sequence - 1 is the offset; a recheck batch is read again from its first message.
                let after = stream.recheck.map { Int64($0.sequence) - 2 } ?? Int64(acknowledged.sequence) - 1
                let key = KafkaTopicSource.key(topic: topic, partition: number)
                resumeAfter[key] = min(resumeAfter[key] ?? after, after)
            }
        }
    }

    /// The ranges fixed so far, for the checkpoint.
    var ranges: [String: ReplayCheckpoint.SourceRange] {
        var ranges: [String: ReplayCheckpoint.SourceRange] = [:]
        for (key, start) in starts { if let end = ends[key] { ranges[key] = .init(start: start, end: max(start, end)) } }
        return ranges
    }

    func end(_ key: String, high: Int64) -> Int64 {
        if let end = ends[key] { return end }
        let end = fixed ? 0 : high   // a partition added since the first run: nothing of it was there then
        ends[key] = end
        return end
    }

    func done(_ key: String) -> Int64? {
        if let after = resumeAfter[key] { return after }
        return starts[key].map { $0 - 1 }
    }

    func pinStart(_ key: String, _ start: Int64) { starts[key] = start }
}
