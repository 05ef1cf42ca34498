import K2Core
import Bronze
import Foundation
import Kafka
import SegmentLog

/// The producing side of `--to kafka`, ready to produce.
struct KafkaTarget {
    var producer: KafkaProducer
    /// With the target topics' partition counts.
    var router: KafkaTargetRouter
    var store: CheckpointStore
    /// Held until the run ends: a second run of the same replay stops at it.
    var lock: CheckpointLock
    var plan: ResumePlanner.Plan
}

/// Setting up the Kafka side of a run: clients, target topics, the checkpoint, schema ids.
extension ReplayContext {
    /// The librdkafka settings of `-X` and `--bootstrap` (`embedded`: an in-process mock cluster, returned
    /// too: it lives as long as the caller keeps it).
    func kafkaClient() throws -> (KafkaConfig, EmbeddedKafkaCluster?) {
        var embedded: EmbeddedKafkaCluster?
        var kafkaConfig = try kafkaProperties()
        if kafkaConfig["partitioner"] != nil {
            throw ReplayError.usage("-X partitioner is not supported: k2-replay places keyed records as librdkafka's default partitioner does")
        }
        switch configuration.bootstrap {
        case .embedded?:
            let cluster = try EmbeddedKafkaCluster(brokers: 3)
            embedded = cluster
            kafkaConfig.set("bootstrap.servers", cluster.bootstrap)
            notice("embedded Kafka at \(cluster.bootstrap) (gone when this run ends)")
        case .servers(let servers)?:
            kafkaConfig.set("bootstrap.servers", servers)
        case nil:
            break
        }
        return (kafkaConfig, embedded)
    }

    /// The librdkafka settings of `-X` alone, with librdkafka's own log lines sent to the diagnostics (not
    /// printed raw by librdkafka): errors and warnings as warnings, the rest as notices.
    func kafkaProperties() throws -> KafkaConfig {
        var config = KafkaConfig()
        for (key, value) in configuration.kafkaProperties { config.set(key, value) }
        let diagnostics = self.diagnostics
        config.logHandler = { line in
            diagnostics(ReplayNote(line.isError || line.isWarning ? .warning : .notice,
                                   "kafka: \(line.facility): \(line.message) (\(line.clientName))"))
        }
        return config
    }

    /// The Kafka topic source the configuration selects (start offset, time bounds, partitions, shard).
    func kafkaTopicSource(config: KafkaConfig, topic: String) -> KafkaTopicSource {
        var source = KafkaTopicSource(config: config, topic: topic, offsets: configuration.offsets,
                                      fromTimeMs: configuration.sinceNanos.map { Self.milliseconds(ceilingOf: $0) },
                                      untilTimeMs: configuration.untilNanos.map { Self.milliseconds(ceilingOf: $0) },
                                      shard: configuration.shard, stop: stop, diagnostics: diagnostics)
        source.partitionSelection = configuration.sourcePartitions
        source.follow = configuration.follow
        return source
    }

    /// Kafka timestamps are milliseconds: `t >= since` and `t < until` in nanoseconds hold exactly when they
    /// hold for the ceiling of the bound in milliseconds.
    static func milliseconds(ceilingOf nanos: Int64) -> Int64 {
        let ms = nanos / 1_000_000
        return nanos % 1_000_000 > 0 ? ms + 1 : ms
    }

    /// Opens the target of `--to kafka`: refuses delivery settings resume cannot rely on, creates missing target
    /// topics of `streams`, names the replay (`identity` gets the cluster id), takes its lock and plans the
    /// resume from its checkpoint (with a Kafka source's ranges, `ResumePlanner.plan`).
    func openKafkaTarget(_ kafkaConfig: KafkaConfig, embedded: EmbeddedKafkaCluster?, router: KafkaTargetRouter, streams: [StreamKey],
                         identity: (String) throws -> ReplayIdentity,
                         sourceRanges: ((ReplayCheckpoint?) throws -> [String: ReplayCheckpoint.SourceRange])? = nil) throws -> KafkaTarget {
        // Resume relies on each partition holding a gapless prefix of what was sent to it: a batch that
        // fails after retries must stop the producer rather than let later messages through.
        try Self.refuseUnsafeDeliverySettings(kafkaConfig)
        var producerConfig = kafkaConfig
        producerConfig.setDefault("enable.gapless.guarantee", "true")
        let producer = try KafkaProducer(config: producerConfig)
        var router = router
        router.partitionCounts = try prepareTopics(producer, embedded: embedded, router: router, streams: streams)
        let targets = router.topics(for: streams)
        // The cluster is part of the replay's identity; guessing it (say, from the bootstrap string) would
        // make the same cluster another replay under another address, and resume nothing.
        guard let clusterId = producer.clusterId() else {
            throw ReplayError.unusable("Kafka at \(kafkaConfig["bootstrap.servers"] ?? "?") reports no cluster id, which names this "
                                       + "replay's checkpoint; resume needs brokers that report one (Kafka 0.10.1 or later)")
        }
        let identity = try identity(clusterId)
        let store = CheckpointStore(directory: configuration.stateDirectory ?? CheckpointStore.defaultDirectory())
        let lock = try store.lock(identity)
        let plan = try ResumePlanner(store: store, identity: identity, consumerConfig: kafkaConfig, diagnostics: diagnostics)
            .plan(targets: router.partitionCounts.filter { targets.contains($0.key) }, producer: producer, sourceRanges: sourceRanges)
        if plan.resumed {
            notice("resuming from checkpoint \(store.path(for: identity))")
        }
        return KafkaTarget(producer: producer, router: router, store: store, lock: lock, plan: plan)
    }

    /// A pacer of the configured pacing.
    func pacer() -> Pacer { Pacer(mode: configuration.pacing) }

    /// Resume needs each partition to hold a gapless, in-order prefix of what was sent to it: the idempotent
    /// producer with acks=all, the gapless guarantee, at most 5 requests in flight and FIFO queuing. `-X`
    /// may not weaken them (refused rather than silently overridden, so the command line says what runs).
    static func refuseUnsafeDeliverySettings(_ config: KafkaConfig) throws {
        func refuse(_ key: String, _ value: String, _ why: String) -> ReplayError {
            ReplayError.usage("-X \(key)=\(value) is refused with --to kafka: \(why), which resuming without duplicates "
                              + "or losses relies on (docs/replay.md)")
        }
        for (key, value) in config.entries {
            let lowered = value.lowercased()
            switch key {
            case "enable.idempotence":
                if lowered != "true" { throw refuse(key, value, "the producer must be idempotent") }
            case "acks", "request.required.acks":
                if !["all", "-1"].contains(lowered) {
                    throw refuse(key, value, "every message must be acknowledged by all in-sync replicas (acks=all)")
                }
            case "enable.gapless.guarantee":
                if lowered != "true" { throw refuse(key, value, "a failed batch must stop the producer rather than leave a gap") }
            case "max.in.flight", "max.in.flight.requests.per.connection":
                if (Int(value) ?? Int.max) > 5 {
                    throw refuse(key, value, "the idempotent producer keeps order with at most 5 requests in flight")
                }
            case "queuing.strategy":
                if lowered != "fifo" { throw refuse(key, value, "messages must be sent in the order produced") }
            case "transactional.id":
                throw refuse(key, value, "k2-replay does not produce in transactions")
            default:
                continue
            }
        }
    }

    /// Schema ids per exchange: from --schema-id, or registered/looked up at --schema-registry.
    func resolveSchemaIds(_ format: BronzeValueFormat, streams: [StreamKey]) throws -> [BronzeExchange: Int32] {
        guard format == .avroConfluent else { return [:] }
        let exchanges = Set(streams.compactMap { BronzeExchange(source: $0.source) })
        if let ids = configuration.schemaIds {
            if let missing = exchanges.first(where: { ids[$0] == nil }) {
                throw ReplayError.usage("--schema-id has no id for \(missing.rawValue)")
            }
            return ids
        }
        guard let url = configuration.schemaRegistry else {
            throw ReplayError.usage("--format avro-confluent needs --schema-registry URL or --schema-id N")
        }
        let client = SchemaRegistryClient(baseURL: url)
        var ids: [BronzeExchange: Int32] = [:]
        for exchange in exchanges.sorted(by: { $0.rawValue < $1.rawValue }) {
            // Registering an identical schema returns its existing id, so this is also the look-up.
            ids[exchange] = try client.register(subject: exchange.subject, schema: exchange.avroSchema)
            notice("schema \(exchange.subject): id \(ids[exchange]!)")
        }
        return ids
    }

    /// Partition counts of the target topics, creating missing ones (K2's topic config; Kafka-sourced
    /// topics with as many partitions as the log has).
    func prepareTopics(_ producer: KafkaProducer, embedded: EmbeddedKafkaCluster?, router: KafkaTargetRouter,
                               streams: [StreamKey]) throws -> [String: Int32] {
        var counts = try producer.topics()
        for topic in router.topics(for: streams).sorted() where counts[topic] == nil {
            let kafkaPartitions = streams.filter { $0.source.hasPrefix("kafka:") && router.topic(forKafkaSource: $0.source) == topic }
                .compactMap { Int32($0.stream) }.max().map { $0 + 1 }
            let wanted = Swift.max(configuration.topicPartitions, kafkaPartitions ?? 0)
            if let embedded {
                notice("creating topic \(topic) with \(wanted) partitions")
                try embedded.createTopic(topic, partitions: wanted)
                counts[topic] = wanted
                continue
            }
            do {
                try producer.createTopic(topic, partitions: wanted, timeoutMs: 5_000,
                                         config: ["compression.type": "lz4", "retention.ms": "604800000", "cleanup.policy": "delete"])
                notice("created topic \(topic) with \(wanted) partitions (CreateTopics)")
                counts[topic] = wanted
            } catch {
                // Some clusters never answer CreateTopics (librdkafka's mock cluster among them) but create a
                // topic when its metadata is asked for, as a producer's first send would: fall back to that,
                // and say so, since the broker then chooses the partition count and config.
                guard let created = try? producer.requestTopic(topic) else {
                    throw ReplayError.unusable("topic \(topic) does not exist and could not be created (CreateTopics: \(error); the broker did not create it on a metadata request either); create it first")
                }
                notice("CreateTopics for \(topic) failed (\(error)); the broker auto-created it on a metadata request with \(created) partitions and its default config")
                counts[topic] = created
            }
        }
        // Re-read so the counts are the cluster's, not our intent.
        for _ in 0..<50 {
            let fresh = try producer.topics()
            if router.topics(for: streams).allSatisfy({ fresh[$0] != nil }) { return fresh }
            usleep(100_000)
        }
        throw ReplayError.unusable("topics \(router.topics(for: streams).sorted()) not visible in metadata after creation")
    }
}
