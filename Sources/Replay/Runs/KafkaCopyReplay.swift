import Foundation
import Bronze
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
    let context: ReplayContext
    let sourceBootstrap: String
    let sourceTopic: String

    private var configuration: ReplayConfiguration { context.configuration }

    func run() throws -> ReplayReport {
        if configuration.sources != nil || configuration.symbols != nil {
            throw ReplayError.usage("--source and --symbols select log streams; a Kafka source is selected with "
                                    + "--from-offset, --since, --until, --partitions and --shard")
        }
        let (kafkaConfig, embedded) = try context.kafkaClient()
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
        var source = context.kafkaTopicSource(config: sourceConfig, topic: sourceTopic)
        source.carriesKeysAndHeaders = true
        let sourceName = KafkaTopicSource.sourceName(sourceTopic)
        // Every source partition, so a target topic created here gets as many (at least --topic-partitions).
        let streams = (0..<partitionCount).map { StreamKey(source: sourceName, stream: String($0)) }
        let router = KafkaTargetRouter(topicOverride: configuration.topic, partitionCounts: [:],
                                       defaultPartitions: configuration.topicPartitions)
        let targetTopic = router.topic(forKafkaSource: sourceName)
        // Before anything is written (a checkpoint naming the target's partitions would outlive the fix).
        if let targetPartitions = try KafkaConsumer(config: kafkaConfig).topics()[targetTopic], targetPartitions < partitionCount {
            throw ReplayError.unusable("topic \(targetTopic) has \(targetPartitions) partitions, fewer than the \(partitionCount) of "
                                       + "\(sourceTopic): each message goes to its own partition number; add partitions or choose --topic")
        }
        let rangeText = (RunIdentity.kafkaRange(configuration) + ["shard=\(configuration.shard)"]).joined(separator: "&")
        var ranges = KafkaTopicSource.Plan(partitionCount: partitionCount, ranges: [])
        let target = try context.openKafkaTarget(kafkaConfig, embedded: embedded, router: router, streams: streams, identity: { clusterId in
            if clusterId == sourceCluster && targetTopic == sourceTopic {
                throw ReplayError.usage("--from kafka://\(sourceBootstrap)/\(sourceTopic) and the target are the same topic of the same "
                                        + "cluster (\(clusterId)): give --topic to copy it elsewhere")
            }
            // The source by cluster id, not address, with everything that decides the range.
            return ReplayIdentity(log: "kafka://\(sourceCluster)/\(sourceTopic)?\(rangeText)", sources: nil, symbols: nil, sinceNanos: nil,
                                  untilNanos: nil, format: "kafka", schemaIds: [:], topic: configuration.topic, clusterId: clusterId)
        }, sourceRanges: { checkpoint in
            let ledger = CheckpointLedger(checkpoint, source: sourceName, topic: sourceTopic)
            ranges = try source.plan(consumer, ledger: ledger, destination: "topic \(targetTopic)")
            return ledger.ranges
        })
        defer { withExtendedLifetime(target.lock) {} }
        let sourceLabel = "kafka://\(sourceBootstrap)/\(sourceTopic)"
        let sink = try KafkaSink(
            producer: target.producer, format: .raw, schemaIds: [:], router: target.router, pacer: context.pacer(),
            logPath: sourceLabel, provenance: configuration.provenance, plan: target.plan, store: target.store,
            checkpointIntervalSeconds: configuration.checkpointIntervalSeconds,
            sourceMessage: { try Self.message(at: $0, topic: sourceTopic, config: sourceConfig) }, readsAfterAcknowledged: true,
            stop: context.stop, diagnostics: context.diagnostics)

        let progress = ProgressReporter(total: ranges.records, enabled: true,
                                        intervalSeconds: configuration.progressIntervalSeconds, diagnostics: context.diagnostics)
        let records = try source.run(consumer, ranges, into: sink, progress: progress)
        return try context.finish(sink, records: records, messages: records, seconds: { progress.elapsedSeconds })
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
