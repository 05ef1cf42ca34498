import ArgumentParser
import Bronze
import Foundation
import Iceberg
import K2CLI
import Kafka
import SegmentLog

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a segment log into Kafka (K2 messages) or print it as JSON lines.",
        discussion: """
        Every data record of the selection becomes K2's message: topic market.crypto.trades.{exchange}.raw,
        key = Binance symbol / Kraken pair, timestamp = the capture receive time (ms), value per --format.
        Kraken frames with several trades give one message per trade. The partition is the one librdkafka's
        default partitioner (consistent_random: CRC32 of the key) gives, computed by k2-replay. Logs captured
        from Kafka (k2-capture kafka) go back to the same topic and partition numbers with their original
        keys, timestamps and headers; --format does not apply to them.

        Delivery: idempotent producer, acks=all, lz4 (override librdkafka properties with -X); every
        delivery report is awaited; any undelivered message fails the run (exit 1) with the count and the
        first error.

        Resume: messages carry no headers (as K2's). A checkpoint file per replay (--state-dir) records, per
        target partition and log stream, the last message acknowledged (sequence, trade) and where the
        unconfirmed ones may be; a rerun with the same arguments and state directory skips what is
        acknowledged, finds each stream's next messages in the partition by content, and continues, so a run
        killed at any point leaves each record in Kafka exactly once, also when the log grew in between. It
        first checks that the partition still holds the replay's last message where the checkpoint says
        (exit 2 otherwise). One run of a replay at a time (a lock next to the checkpoint). -X cannot weaken
        idempotence, acks=all, the gapless guarantee or ordering (exit 2). Without its checkpoint a rerun
        starts afresh (docs/replay.md).

        From a Kafka topic (--from kafka://HOST:PORT/TOPIC --to kafka): the range (--from-offset, --from-time,
        --until-time, --shard; the end offsets seen at the first start) is copied to the same partition numbers
        of the target topic (--topic, else the same name) with keys, values, timestamps and headers; resumed
        like a log replay, the range fixed in the checkpoint (docs/replay.md).

        Exit codes: 0 done, 1 messages undelivered or unreadable data, 2 bad arguments, unreachable
        Kafka/registry or an unreadable checkpoint, 130 interrupted (re-run to resume).

        Examples:
          k2-replay --from var/log --to kafka --bootstrap localhost:9092 --schema-registry http://localhost:8081
          k2-replay --from var/log --bootstrap embedded --schema-id 1 --source binance --symbols BTCUSDT --rate 10000
          k2-replay --from var/log --bootstrap HOST:9092 --format json --since 2024-02-09T10:00:00Z --until 2024-02-09T11:00:00Z --speed 10
          k2-replay --from var/log --to jsonl --source kraken | head
          k2-replay --from var/log --dry-run --schema-id 1 --json
          k2-replay --from var/log --bootstrap HOST:9093 --schema-id 1 -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN
          k2-replay --from kafka://old:9092/market.crypto.trades.binance.raw --to kafka --bootstrap new:9092 --rate 5000

        Into a Bronze Iceberg table (--to iceberg, docs/replay-iceberg.md):
          k2-replay --from var/log --to iceberg --warehouse var/wh \\
            --table market_data.bronze_binance_trades --style spark \\
            --create --schema-id 1
          export PGPASSWORD=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...
          k2-replay --from kafka://kafka:9092/market.crypto.trades.binance.raw \\
            --to iceberg --catalog postgresql://iceberg@postgres:5432/iceberg \\
            --warehouse s3://warehouse --s3-endpoint http://minio:9000 \\
            --table market_data.bronze_binance_trades_flink --style flink
          export K2_ICEBERG_TOKEN=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...
          k2-replay --from var/log --to iceberg \\
            --catalog rest:http://iceberg-rest:8181 \\
            --warehouse s3://warehouse --s3-endpoint http://minio:9000 \\
            --table market_data.bronze_binance_trades --style spark --schema-id 1

        """ + CatalogAddress.forms)

    enum Target: String, ExpressibleByArgument { case kafka, jsonl, iceberg }

    @Option(help: "The segment-log directory to replay, or a Kafka topic kafka://HOST:PORT/TOPIC (with --to kafka or --to iceberg).")
    var from: String
    @Option(help: "kafka, jsonl or iceberg (a Bronze table; see the --to iceberg options).") var to: Target = .kafka
    @Option(help: "Kafka bootstrap servers HOST:PORT[,...], or `embedded` for an in-process mock cluster.")
    var bootstrap: String?
    @Option(help: "Comma-separated sources to replay: binance, kraken, kraken-v2, kafka:<topic>.") var source: String?
    @Option(help: "Comma-separated symbols / pairs (BTCUSDT, XBT/USD) or stream names.") var symbols: String?
    @Option(help: "Start at this receive time (RFC 3339, date, or epoch s/ms), inclusive.") var since: String?
    @Option(help: "Stop before this receive time, exclusive.") var until: String?
    @Option(help: "avro-confluent (K2 v1), json (K2 v2) or raw (frames as captured).") var format: String = "avro-confluent"
    @Option(name: .customLong("schema-registry"), help: "Register/look up the value schemas at this Schema Registry URL.")
    var schemaRegistry: String?
    @Option(name: .customLong("schema-id"), help: "Schema id for every exchange (N) or per exchange (binance=N,kraken=M).")
    var schemaId: String?
    @Option(help: "Write every message to this topic instead of K2's.") var topic: String?
    @Option(help: "Partitions of topics k2-replay creates (and assumed by --dry-run without --bootstrap).")
    var partitions: Int32 = 6
    @Option(help: "Pace at N messages/s (token bucket).") var rate: Double?
    @Option(help: "With --rate: at most B messages above the steady line (default: rate/100, at least 1).") var burst: Double?
    @Option(help: "Pace at X times the recorded inter-arrival timing (1 = real time).") var speed: Double?
    @Flag(help: "As fast as possible (the default).") var max = false
    @Flag(help: "Print a JSON summary on stdout at the end.") var json = false
    @Flag(name: .customLong("data-only"), help: "--to jsonl: leave out control records.") var dataOnly = false
    @Flag(name: .customLong("dry-run"), help: "Count messages per topic/partition without producing.") var dryRun = false
    @Flag(help: "Add a k2-replay-id header (log, stream, sequence, trade) to each message, for auditing; K2's messages have none.")
    var provenance = false
    @Flag(name: .customLong("no-provenance"), help: .hidden) var noProvenance = false
    @Option(name: .customLong("state-dir"),
            help: "Directory of resume checkpoints (default: $K2_STATE_DIR, else $XDG_STATE_HOME/k2-replay, else ~/.local/state/k2-replay).")
    var stateDir: String?
    @Option(name: .customLong("checkpoint-interval"), help: "Seconds between checkpoint writes while producing.")
    var checkpointInterval: Double = 1
    @Flag(help: "No progress lines.") var quiet = false
    @Option(name: .customShort("X"), parsing: .unconditionalSingleValue, help: "librdkafka property key=value (repeatable).")
    var properties: [String] = []
    @OptionGroup(title: "Iceberg (--to iceberg) and Kafka source (--from kafka://…)") var iceberg: IcebergOptions

    func validate() throws {
        let pacing = [rate != nil, speed != nil, max].filter { $0 }.count
        guard pacing <= 1 else { throw ValidationError("choose one of --rate, --speed, --max") }
        // Bounded so that the pacer's nanosecond arithmetic cannot overflow (and no real replay needs more).
        if let rate, !(rate > 0 && rate <= 1e9) { throw ValidationError("--rate must be a number of messages/s in (0, 1e9], got \(rate)") }
        if let burst, !(burst >= 1 && burst <= 1e9) { throw ValidationError("--burst must be in [1, 1e9], got \(burst)") }
        if let speed, !(speed > 0 && speed <= 1e6) { throw ValidationError("--speed must be a factor in (0, 1e6], got \(speed)") }
        if burst != nil && rate == nil { throw ValidationError("--burst needs --rate") }
        if checkpointInterval <= 0 { throw ValidationError("--checkpoint-interval must be positive") }
        if provenance && noProvenance { throw ValidationError("choose --provenance or --no-provenance") }
        guard BronzeValueFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be one of \(BronzeValueFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if to == .kafka && !dryRun && bootstrap == nil { throw ValidationError("--to kafka needs --bootstrap HOST:PORT or embedded") }
        if let schemaRegistry {
            do {
                try CommandLineAddress.refuseCredentials(schemaRegistry, option: "--schema-registry", instead: "give the registry's address only")
            } catch { throw ValidationError("\(error)") }
        }
        if since.map(TimeParser.epochNanoseconds) == .some(nil) { throw ValidationError("--since: not a time: \(since!)") }
        if until.map(TimeParser.epochNanoseconds) == .some(nil) { throw ValidationError("--until: not a time: \(until!)") }
    }

    func run() throws {
        Signals.install()
        do {
            try replay()
        } catch let error as ReplayError {
            switch error {
            case .usage, .unusable: throw ProgramFailure("error: \(error)", code: .unusable)
            case .failed: throw ProgramFailure("error: \(error)", code: .failure)
            }
        } catch let error as ExitCode {
            throw error
        } catch let error as Interrupted {
            StandardError.note("\(error)")
            throw ExitCode(K2ExitCode.interrupted.rawValue)
        } catch let error as KafkaError {
            throw ProgramFailure("error: \(error)", code: .unusable)
        } catch let error as SchemaRegistryError {
            throw ProgramFailure("error: \(error)", code: .unusable)
        } catch {
            // Segment-log read errors name the file and byte offset.
            StandardError.note("error: \(error)")
            throw ExitCode(K2ExitCode.failure.rawValue)
        }
        if Signals.shouldStop { throw ExitCode(K2ExitCode.interrupted.rawValue) }
    }

    func selection() -> ReadSelection {
        var selection = ReadSelection()
        if let source { selection.sources = Set(source.split(separator: ",").map(String.init)) }
        if let symbols {
            var streams = Set<String>()
            for symbol in symbols.split(separator: ",").map(String.init) {
                streams.insert(symbol)
                if !symbol.contains("@") && !symbol.contains("/") { streams.insert(symbol.lowercased() + "@trade") }
            }
            selection.streams = streams
        }
        selection.fromTimeNanos = since.flatMap(TimeParser.epochNanoseconds)
        selection.untilTimeNanos = until.flatMap(TimeParser.epochNanoseconds)
        if to == .kafka || dryRun || dataOnly { selection.kinds = [.data] }
        return selection
    }

    private func replay() throws {
        if to == .iceberg { return try IcebergReplay(command: self).run() }
        let origin = try ReplayOrigin(argument: from)
        guard case .segmentLog(let directory) = origin else {
            guard case .kafka(let bootstrap, let topic) = origin, to == .kafka, !dryRun else {
                throw ReplayError.usage("--from kafka:// replays into --to kafka or --to iceberg; --dry-run and --to jsonl read segment logs "
                                        + "(k2-capture kafka records a topic into one)")
            }
            return try KafkaCopyReplay(command: self, sourceBootstrap: bootstrap, sourceTopic: topic).run()
        }
        let selection = selection()
        let diagnostics: (String) -> Void = { StandardError.note("log: \($0)") }
        let valueFormat = BronzeValueFormat(rawValue: format)!
        let allStreams = try SegmentLogReader.streams(in: directory)
        let selectedStreams = allStreams.filter { key in
            (selection.sources?.contains(key.source) ?? true) && (selection.streams?.contains(key.stream) ?? true)
        }

        let (kafkaConfig, embedded) = try kafkaClient()
        defer { withExtendedLifetime(embedded) {} }

        var checkpointLock: CheckpointLock?
        defer { withExtendedLifetime(checkpointLock) {} }
        var router = KafkaTargetRouter(topicOverride: topic, partitionCounts: [:], defaultPartitions: partitions)
        let sink: ReplaySink
        switch (to, dryRun) {
        case (.jsonl, _):
            sink = JSONLSink()
        case (.iceberg, _):
            return try IcebergReplay(command: self).run()   // not reached: dispatched at the top
        case (.kafka, true):
            if bootstrap != nil {
                let producer = try KafkaProducer(config: kafkaConfig)
                router.partitionCounts = try producer.topics()
            }
            sink = DryRunSink(format: valueFormat, router: router)
        case (.kafka, false):
            let schemaIds = try resolveSchemaIds(valueFormat, streams: selectedStreams)
            let target = try openKafkaTarget(kafkaConfig, embedded: embedded, router: router, streams: selectedStreams) { clusterId in
                ReplayIdentity(
                    log: directory, sources: selection.sources?.sorted(), symbols: selection.streams?.sorted(),
                    sinceNanos: selection.fromTimeNanos, untilNanos: selection.untilTimeNanos, format: valueFormat.rawValue,
                    schemaIds: Dictionary(uniqueKeysWithValues: schemaIds.map { ($0.key.rawValue, $0.value) }), topic: topic,
                    clusterId: clusterId)
            }
            checkpointLock = target.lock
            sink = try KafkaSink(producer: target.producer, format: valueFormat, schemaIds: schemaIds, router: target.router,
                                 pacer: pacer(), logPath: directory, provenance: provenance, plan: target.plan, store: target.store,
                                 checkpointIntervalSeconds: checkpointInterval)
        }

        let reader = try SegmentLogReader(directory: directory, selection: selection, diagnostics: diagnostics)
        // The total comes from the segment indexes (an upper bound, shown as "~N"), not a counting pass.
        let progress = ProgressReporter(total: reader.plannedRecordCount, enabled: !quiet && to == .kafka && !dryRun)
        var records = 0, messages = 0
        if let kafkaSink = sink as? KafkaSink {
            // Into Kafka each record is read as a view of the reader's block buffer: the frame is scanned where it
            // lies and its message copied once, into the batch the producing thread takes (docs/replay.md, "Cost
            // per message"). The reader's own streams, not the listing above: a live capture may have added one.
            kafkaSink.readerStreams = reader.streamKeys
            while !Signals.shouldStop, try reader.next(view: { view in messages += try kafkaSink.write(view: view) }) {
                records += 1
                if records & 255 == 0 { progress.tick(records: records, messages: messages, note: sink.progressNote) }
            }
        } else {
            // One record value reused for the whole read: its payload storage is refilled, not reallocated.
            var record = LogRecord(receiveTimeNanos: 0, source: "", stream: "", payload: [])
            while !Signals.shouldStop, try reader.next(into: &record) {
                messages += try sink.write(record)
                records += 1
                if records & 255 == 0 { progress.tick(records: records, messages: messages, note: sink.progressNote) }
            }
        }
        try finish(sink, records: records, messages: messages, seconds: { progress.elapsedSeconds },
                   extra: ["corrupt_blocks_skipped": .int(reader.statistics.corruptBlocksSkipped)])
    }

    /// The end of a run: waits for `sink` (every delivery report), then prints the `--json` summary, or a
    /// last line on stderr for `--to kafka`.
    func finish(_ sink: ReplaySink, records: Int, messages: Int, seconds: () -> Double, extra: [String: SummaryValue] = [:]) throws {
        if Signals.shouldStop { StandardError.note("interrupted after \(records) records: flushing what was produced") }
        try sink.finish()
        let seconds = seconds()
        if json {
            var summary = sink.summary.merging(extra) { _, new in new }
            summary["records_read"] = .int(records)
            summary["messages"] = .int(messages)
            summary["seconds"] = .double((seconds * 1000).rounded() / 1000)
            summary["messages_per_second"] = .double(seconds > 0 ? (Double(messages) / seconds).rounded() : 0)
            summary["interrupted"] = .int(Signals.shouldStop ? 1 : 0)
            try JSONReport.write(summary, program: "k2-replay", format: 1)
        } else if !quiet && to == .kafka {
            StandardError.note("done: \(records) records, \(messages) messages in \(String(format: "%.1f", seconds)) s")
        }
    }

    /// The librdkafka settings of `-X` and `--bootstrap` (`embedded`: an in-process mock cluster, returned
    /// too: it lives as long as the caller keeps it).
    func kafkaClient() throws -> (KafkaConfig, EmbeddedKafkaCluster?) {
        var embedded: EmbeddedKafkaCluster?
        var kafkaConfig = KafkaConfig()
        for property in properties {
            do { try kafkaConfig.apply(passthrough: property) } catch { throw ReplayError.usage("\(error)") }
        }
        if kafkaConfig["partitioner"] != nil {
            throw ReplayError.usage("-X partitioner is not supported: k2-replay places keyed records as librdkafka's default partitioner does")
        }
        if let bootstrap {
            if bootstrap == "embedded" {
                let cluster = try EmbeddedKafkaCluster(brokers: 3)
                embedded = cluster
                kafkaConfig.set("bootstrap.servers", cluster.bootstrap)
                StandardError.note("embedded Kafka at \(cluster.bootstrap) (gone when this run ends)")
            } else {
                kafkaConfig.set("bootstrap.servers", bootstrap)
            }
        }
        return (kafkaConfig, embedded)
    }

    /// The producing side of `--to kafka`, ready to produce.
    struct KafkaTarget {
        var producer: KafkaProducer
        /// With the target topics' partition counts.
        var router: KafkaTargetRouter
        var store: CheckpointStore
        /// Held until the process ends: a second run of the same replay stops at it.
        var lock: CheckpointLock
        var plan: ResumePlanner.Plan
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
        let store = CheckpointStore(directory: stateDir ?? CheckpointStore.defaultDirectory())
        let lock = try store.lock(identity)
        let plan = try ResumePlanner(store: store, identity: identity, consumerConfig: kafkaConfig)
            .plan(targets: router.partitionCounts.filter { targets.contains($0.key) }, producer: producer, sourceRanges: sourceRanges)
        if plan.resumed {
            StandardError.note("resuming from checkpoint \(store.path(for: identity))")
        }
        return KafkaTarget(producer: producer, router: router, store: store, lock: lock, plan: plan)
    }

    /// The pacing of `--rate`, `--speed` or `--max`.
    func pacer() -> Pacer {
        if let rate { return Pacer(mode: .rate(perSecond: rate, burst: Swift.max(1, burst ?? rate / 100))) }
        if let speed { return Pacer(mode: .speed(speed)) }
        return Pacer(mode: .unpaced)
    }

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
        if let schemaId {
            var ids: [BronzeExchange: Int32] = [:]
            if let single = Int32(schemaId) {
                for exchange in BronzeExchange.allCases { ids[exchange] = single }
                return ids
            }
            for part in schemaId.split(separator: ",") {
                let pair = part.split(separator: "=")
                guard pair.count == 2, let exchange = BronzeExchange(rawValue: String(pair[0])), let id = Int32(pair[1]) else {
                    throw ReplayError.usage("--schema-id expects N or binance=N,kraken=M, got \(schemaId)")
                }
                ids[exchange] = id
            }
            if let missing = exchanges.first(where: { ids[$0] == nil }) {
                throw ReplayError.usage("--schema-id has no id for \(missing.rawValue)")
            }
            return ids
        }
        guard let schemaRegistry, let url = URL(string: schemaRegistry) else {
            throw ReplayError.usage("--format avro-confluent needs --schema-registry URL or --schema-id N")
        }
        let client = SchemaRegistryClient(baseURL: url)
        var ids: [BronzeExchange: Int32] = [:]
        for exchange in exchanges.sorted(by: { $0.rawValue < $1.rawValue }) {
            // Registering an identical schema returns its existing id, so this is also the look-up.
            ids[exchange] = try client.register(subject: exchange.subject, schema: exchange.avroSchema)
            StandardError.note("schema \(exchange.subject): id \(ids[exchange]!)")
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
            let wanted = Swift.max(partitions, kafkaPartitions ?? 0)
            if let embedded {
                StandardError.note("creating topic \(topic) with \(wanted) partitions")
                try embedded.createTopic(topic, partitions: wanted)
                counts[topic] = wanted
                continue
            }
            do {
                try producer.createTopic(topic, partitions: wanted, timeoutMs: 5_000,
                                         config: ["compression.type": "lz4", "retention.ms": "604800000", "cleanup.policy": "delete"])
                StandardError.note("created topic \(topic) with \(wanted) partitions (CreateTopics)")
                counts[topic] = wanted
            } catch {
                // Some clusters never answer CreateTopics (librdkafka's mock cluster among them) but create a
                // topic when its metadata is asked for, as a producer's first send would: fall back to that,
                // and say so, since the broker then chooses the partition count and config.
                guard let created = try? producer.requestTopic(topic) else {
                    throw ReplayError.unusable("topic \(topic) does not exist and could not be created (CreateTopics: \(error); the broker did not create it on a metadata request either); create it first")
                }
                StandardError.note("CreateTopics for \(topic) failed (\(error)); the broker auto-created it on a metadata request with \(created) partitions and its default config")
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
