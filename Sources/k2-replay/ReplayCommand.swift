import K2Core
import ArgumentParser
import Bronze
import CatalogCLI
import Foundation
import Iceberg
import K2CLI
import Kafka
import Parity
import Repair
import Replay

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a segment log or a Kafka topic range into Kafka (K2 messages), a Bronze Iceberg table, or JSON lines.",
        discussion: """
        Every data record of the selection becomes K2's message: topic market.crypto.trades.{exchange}.raw, key = Binance symbol / Kraken pair, timestamp = the capture receive time (ms), value per --format. Kraken frames with several trades give one message per trade. The partition is the one librdkafka's default partitioner (consistent_random: CRC32 of the key) gives, computed by k2-replay. Logs captured from Kafka (k2-capture kafka) go back to the same topic and partition numbers with their original keys, timestamps and headers; --format does not apply to them.

        Delivery: idempotent producer, acks=all, lz4 (override librdkafka properties with -X); every delivery report is awaited; any undelivered message fails the run (exit 1) with the count and the first error.

        Resume: messages carry no headers (as K2's). A checkpoint file per replay (--state-dir) records, per target partition and log stream, the last message acknowledged (sequence, trade) and where the unconfirmed ones may be; a rerun with the same selection and state directory skips what is acknowledged, finds each stream's next messages in the partition by content, and continues, so a run killed at any point leaves each record in Kafka exactly once, also when the log grew in between. It first checks that the partition still holds the replay's last message where the checkpoint says (exit 2 otherwise). One run of a replay at a time (a lock next to the checkpoint). -X cannot weaken idempotence, acks=all, the gapless guarantee or ordering (exit 2). Without its checkpoint a rerun starts afresh (docs/replay.md).

        Passes (--passes N, --duration D): the log is replayed again and again, each pass's trades made distinct (Binance trade ids + pass × 10^12) and its message times moved to the pass's own timeline (from the wall clock when the pass started: with --rate the n-th message is stamped start + n/rate), so that Kafka and the Bronze tables keep growing with fresh timestamps. The pass under way is in passes-<hash>.json in the state directory and each pass has its own checkpoint: a rerun after a kill resumes the pass, each (pass, trade) once.

        Time bounds: --since (inclusive) and --until (exclusive) bound a log's receive time, or a Kafka source's record timestamps.

        From a Kafka topic (--from kafka://HOST:PORT/TOPIC): the range (--offsets or --from-offset, --since, --until, --partitions, --shard; the end offsets seen at the first start) is copied to the same partition numbers of the target topic (--topic, else the same name) with keys, values, timestamps and headers, or written as Bronze rows with --to iceberg; resumed like a log replay, the range fixed in the checkpoint (docs/replay.md).

        Exit codes: 0 done, 1 messages undelivered or unreadable data, 2 bad arguments, unreachable Kafka/registry or an unreadable checkpoint, 130 interrupted (re-run to resume).

        Examples:
          k2-replay --from var/log --to kafka --bootstrap localhost:9092 --schema-registry http://localhost:8081
          k2-replay --from var/log --bootstrap embedded --schema-id 1 --source binance --symbols BTCUSDT --rate 10000
          k2-replay --from var/log --bootstrap localhost:9092 --format json --since 2024-02-09T10:00:00Z --until 2024-02-09T11:00:00Z --speed 10
          k2-replay --from var/log --to jsonl --source kraken
          k2-replay --from var/log --bootstrap localhost:9092 --schema-id 1 --rate 5000 --passes 3 --state-dir var/burn-state
          k2-replay --from var/log --dry-run --schema-id 1 --json
          k2-replay --from var/log --bootstrap localhost:9093 --schema-id 1 -X security.protocol=SASL_SSL -X sasl.mechanisms=PLAIN
          k2-replay --from kafka://localhost:9092/market.crypto.trades.binance.raw --to kafka --bootstrap localhost:9093 --partitions 0-2 --rate 5000
          k2-replay --from var/log --to iceberg --warehouse var/wh --table market_data.bronze_binance_trades --style spark --create --schema-id 1
          k2-replay --from kafka://localhost:9092/market.crypto.trades.binance.raw --to iceberg --warehouse var/wh --table market_data.bronze_binance_trades_gap --create --offsets 0:10-19,3:10-19
          k2-replay --from kafka://localhost:9092/market.crypto.trades.binance.raw --to iceberg --warehouse var/wh --table market_data.bronze_binance_trades_flink --style flink --repair var/parity.json --dry-run
          k2-replay --from kafka://localhost:9092/market.crypto.trades.binance.raw --to iceberg --catalog postgresql://iceberg@localhost:5432/iceberg --warehouse s3://warehouse --s3-endpoint http://localhost:9000 --table market_data.bronze_binance_trades_flink --style flink
          k2-replay --from kafka://localhost:9092/market.crypto.trades.binance.raw --to iceberg --warehouse var/wh --table market_data.bronze_binance_trades --create --follow --commit-seconds 5
          k2-replay --from var/log --to iceberg --catalog rest:http://localhost:8181 --warehouse s3://warehouse --s3-endpoint http://localhost:9000 --table market_data.bronze_binance_trades --schema-id 1

        Secrets come from the environment: PGPASSWORD, K2_ICEBERG_TOKEN, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (docs/replay-iceberg.md).


        """ + CatalogAddress.forms)

    enum Target: String, ExpressibleByArgument { case kafka, jsonl, iceberg }

    @Option(help: "The segment-log directory to replay, or a Kafka topic kafka://HOST:PORT/TOPIC (with --to kafka or --to iceberg).")
    var from: String
    @Option(help: "kafka, jsonl or iceberg (a Bronze table; see the --to iceberg options).") var to: Target = .kafka
    @Option(help: "Kafka bootstrap servers HOST:PORT[,...], or `embedded` for an in-process mock cluster.")
    var bootstrap: String?
    @Option(help: "Comma-separated log sources to replay: binance, kraken, kraken-v2, kafka:<topic>.") var source: String?
    @Option(help: "Comma-separated symbols / pairs (BTCUSDT, XBT/USD) or stream names.") var symbols: String?
    @Option(help: "Start at this time, inclusive (RFC 3339, a date, or epoch s/ms): a log's receive time, a Kafka record's timestamp.")
    var since: String?
    @Option(help: "Stop before this time, exclusive (as --since).") var until: String?
    @Option(help: "avro-confluent (K2 v1), json (K2 v2) or raw (frames as captured).") var format: String = "avro-confluent"
    @Option(name: .customLong("schema-registry"), help: "Register/look up the value schemas at this Schema Registry URL.")
    var schemaRegistry: String?
    @Option(name: .customLong("schema-id"), help: "Schema id for every exchange (N) or per exchange (binance=N,kraken=M).")
    var schemaId: String?
    @Option(help: "Write every message to this topic instead of K2's.") var topic: String?
    @Option(name: .customLong("topic-partitions"), help: "Partitions of topics k2-replay creates (and assumed by --dry-run without --bootstrap, and by --to iceberg's partition column).")
    var topicPartitions: Int32 = 6
    @Option(help: "kafka:// source: the source partitions to read, a list like 0,3,5-7 (default: all).") var partitions: String?
    @Option(help: "Pace at N messages/s (token bucket).") var rate: Double?
    @Option(help: "With --rate: at most B messages above the steady line (default: rate/100, at least 1).") var burst: Double?
    @Option(help: "Pace at X times the recorded inter-arrival timing (1 = real time).") var speed: Double?
    @Flag(help: "As fast as possible (the default).") var max = false
    @Option(help: "A log into Kafka: replay it N times, each pass re-stamped (Binance trade ids + pass × 10^12, times moved to the pass's start), resumable (default: once).")
    var passes: Int?
    @Option(help: "A log into Kafka: replay it pass after pass (as --passes) for this long (90s, 30m, 7d); the pass under way is cut short and a rerun resumes it.")
    var duration: String?
    @Flag(help: "Print a JSON summary on stdout at the end.") var json = false
    @Flag(name: .customLong("data-only"), help: "--to jsonl: leave out control records.") var dataOnly = false
    @Flag(name: .customLong("dry-run"), help: "Count messages per topic/partition (or plan a table's files) without writing.") var dryRun = false
    @Flag(help: "Add a k2-replay-id header (log, stream, sequence, trade) to each message, for auditing; K2's messages have none.")
    var provenance = false
    @Flag(name: .customLong("no-provenance"), help: .hidden) var noProvenance = false
    @Option(name: .customLong("state-dir"),
            help: "Directory of resume checkpoints (default: $K2_STATE_DIR, else $XDG_STATE_HOME/k2-replay, else ~/.local/state/k2-replay).")
    var stateDir: String?
    @Option(name: .customLong("checkpoint-interval"), help: "Seconds between checkpoint writes while producing.")
    var checkpointInterval: Double = 1
    @Flag(help: "No progress lines or notes (warnings still).") var quiet = false
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
        if let passes, passes < 1 { throw ValidationError("--passes must be at least 1") }
        if let duration, DurationParser.nanoseconds(duration) == nil { throw ValidationError("--duration: not a duration: \(duration)") }
        if (passes != nil || duration != nil) && (to != .kafka || dryRun || from.hasPrefix("kafka://")) {
            throw ValidationError("--passes and --duration replay a segment log into Kafka (--to kafka, without --dry-run)")
        }
        if checkpointInterval <= 0 { throw ValidationError("--checkpoint-interval must be positive") }
        if topicPartitions < 1 { throw ValidationError("--topic-partitions must be at least 1") }
        if provenance && noProvenance { throw ValidationError("choose --provenance or --no-provenance") }
        guard BronzeValueFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be one of \(BronzeValueFormat.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if to == .kafka && !dryRun && bootstrap == nil { throw ValidationError("--to kafka needs --bootstrap HOST:PORT or embedded") }
        if let bootstrap {
            do { try CommandLineAddress.refuseCredentials(inBrokers: bootstrap, option: "--bootstrap") } catch { throw ValidationError("\(error)") }
        }
        if let schemaRegistry {
            do {
                try CommandLineAddress.refuseCredentials(schemaRegistry, option: "--schema-registry", instead: "give the registry's address only")
            } catch { throw ValidationError("\(error)") }
            if URL(string: schemaRegistry) == nil { throw ValidationError("--schema-registry: not a URL: \(schemaRegistry)") }
        }
        _ = try Self.time(since, "--since")
        _ = try Self.time(until, "--until")
        _ = try schemaIds()
        _ = try sourcePartitions()
        if iceberg.follow && (to != .iceberg || !from.hasPrefix("kafka://") || dryRun) {
            throw ValidationError("--follow reads a kafka:// topic into a table (--to iceberg), without --dry-run")
        }
        if to == .iceberg && iceberg.table == nil { throw ValidationError("--to iceberg needs --table market_data.NAME") }
        let fromKafka = from.hasPrefix("kafka://")
        if !fromKafka && iceberg.fromOffset != nil {
            throw ValidationError("--from-offset starts a kafka:// source; --from \(from) is a segment log")
        }
        if !fromKafka && iceberg.offsets != nil && to != .iceberg {
            throw ValidationError("--offsets selects offsets of a kafka:// source, or of a log captured from Kafka written --to iceberg")
        }
        if iceberg.repair != nil {
            guard to == .iceberg else {
                throw ValidationError("--repair writes into a table: --from kafka://HOST:PORT/TOPIC (or a log captured from it) --to iceberg --table NAME")
            }
            if since != nil || until != nil || partitions != nil {
                throw ValidationError("--repair takes its offsets from the report: leave out --since, --until and --partitions")
            }
        }
    }

    /// Nanoseconds since the epoch of a time option.
    static func time(_ text: String?, _ option: String) throws -> Int64? {
        guard let text else { return nil }
        guard let nanos = TimeParser.epochNanoseconds(text) else { throw ValidationError("\(option): not a time: \(text)") }
        return nanos
    }

    /// `--schema-id`: one id for every exchange, or one per exchange.
    func schemaIds() throws -> [BronzeExchange: Int32]? { try SchemaIdsArgument.parse(schemaId) }

    /// `--partitions 0,3,5-7`, parsed as every program parses it.
    func sourcePartitions() throws -> Set<Int32>? {
        try partitions.map { Set(try PartitionSelection(parsing: $0, option: "--partitions").partitions) }
    }

    /// The engine's configuration: the options as plain values.
    func replayConfiguration() throws -> ReplayConfiguration {
        var c = ReplayConfiguration(origin: try ReplayOrigin(argument: from))
        c.target = ReplayConfiguration.Target(rawValue: to.rawValue)!
        c.dryRun = dryRun
        c.bootstrap = bootstrap.map { $0 == "embedded" ? .embedded : .servers($0) }
        // Credentials come from K2_KAFKA_* variables only (KafkaProperties): a secret given with -X is refused.
        do {
            c.kafkaProperties = try KafkaProperties.merged(commandLine: properties)
        } catch {
            throw UsageError("\(error)")
        }
        c.sources = source.map { Set($0.split(separator: ",").map(String.init)) }
        c.symbols = symbols.map { $0.split(separator: ",").map(String.init) }
        c.sinceNanos = try Self.time(since, "--since")
        c.untilNanos = try Self.time(until, "--until")
        c.offsets = try iceberg.offsetRanges()
        c.follow = iceberg.follow
        c.sourcePartitions = try sourcePartitions()
        c.shard = try iceberg.shard()
        c.format = BronzeValueFormat(rawValue: format)!
        c.schemaIds = try schemaIds()
        c.schemaRegistry = schemaRegistry.flatMap(URL.init(string:))
        c.topic = topic
        c.topicPartitions = topicPartitions
        if let rate { c.pacing = .rate(perSecond: rate, burst: Swift.max(1, burst ?? rate / 100)) } else if let speed { c.pacing = .speed(speed) }
        if passes != nil || duration != nil {
            c.passes = ReplayPasses(count: passes, durationSeconds: duration.flatMap(DurationParser.nanoseconds).map { Double($0) / 1e9 })
        }
        c.provenance = provenance
        c.dataOnly = dataOnly
        c.progressIntervalSeconds = ProgressLines.intervalSeconds()
        c.stateDirectory = stateDir
        c.checkpointIntervalSeconds = checkpointInterval
        if to == .iceberg { c.iceberg = try iceberg.target() }
        return c
    }

    func run() throws {
        let stop = CancellationSignal()
        let signals = InterruptSignals(cancelling: stop)
        defer { withExtendedLifetime(signals) {} }
        let quiet = self.quiet
        let diagnostics: ReplayDiagnostics = { note in
            if !quiet || note.kind == .warning || note.kind == .notice { StandardError.print("k2-replay: " + note.text) }
        }
        let report: ReplayReport
        do {
            if let reportPath = iceberg.repair {
                try runRepair(reportPath, stop: stop, diagnostics: diagnostics)
                return
            }
            report = try ReplayEngine(configuration: try replayConfiguration(), stop: stop, diagnostics: diagnostics).run()
        } catch let error as ExitCode {
            throw error
        } catch let error as ReplayError {
            switch error {
            case .usage, .unusable: throw ProgramFailure("error: \(error)", code: .unusable)
            case .failed: throw ProgramFailure("error: \(error)", code: .failure)
            }
        } catch let error as ValidationError {
            throw ProgramFailure("error: \(error)", code: .unusable)
        } catch let error as UsageError {
            throw ProgramFailure("error: \(error)", code: .unusable)
        } catch let error as Interrupted {
            StandardError.print("k2-replay: \(error)")
            throw ExitCode(K2ExitCode.interrupted.rawValue)
        } catch let error as KafkaError {
            throw ProgramFailure("error: \(error)", code: .unusable)
        } catch let error as SchemaRegistryError {
            throw ProgramFailure("error: \(error)", code: .unusable)
        } catch let error as FileIOError {
            // Storage that cannot be reached, read or written (S3 down, no such file, no permission, disk full): the
            // run could not be done, as with an unreachable broker; what was committed stays, a rerun resumes.
            throw ProgramFailure("error: \(error)", code: .unusable)
        } catch {
            // Segment-log read errors name the file and byte offset.
            throw ProgramFailure("error: \(error)", code: .failure)
        }
        if json {
            try JSONReport.write(report, program: "k2-replay", format: 1)
        } else {
            for line in report.plan { print(line) }
            if !quiet && to == .kafka && !dryRun {
                StandardError.print("k2-replay: done: \(report.records) records, \(report.messages) messages in \(String(format: "%.1f", report.seconds)) s")
            }
        }
        if report.interrupted { throw ExitCode(K2ExitCode.interrupted.rawValue) }
    }

    /// `--repair REPORT`: the table repair from a k2-verify report (exit 1 when retention removed offsets it lists).
    private func runRepair(_ path: String, stop: CancellationSignal, diagnostics: @escaping ReplayDiagnostics) throws {
        let report: ParityReport
        do {
            report = try JSONDecoder().decode(ParityReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw UsageError("--repair \(path): not a k2-verify --json report (\(error))")
        }
        let configuration = TableRepairConfiguration(report: report, side: iceberg.repairSide.flatMap(RepairPlan.Side.init(rawValue:)),
                                                     replay: try replayConfiguration())
        let result = try TableRepair(configuration: configuration, stop: stop, diagnostics: diagnostics).run()
        if json {
            try JSONReport.write(result, program: "k2-replay", format: 1)
        } else if !quiet {
            let verb = dryRun ? "would write" : "wrote"
            StandardError.print("k2-replay: repair of \(result.table) (\(result.side) side of \(path)): \(verb) \(result.offsetsToWrite) offsets"
                                + (dryRun ? "" : " (\(result.rowsWritten) rows)")
                                + ", \(result.offsetsAlreadyPresent) already present, \(result.offsetsLost) lost to retention"
                                + ", \(dryRun ? "would remove" : "removed") \(result.duplicateRowsRemoved) duplicate rows")
        }
        if result.replay?.interrupted == true { throw ExitCode(K2ExitCode.interrupted.rawValue) }
        if result.offsetsLost > 0 { throw ExitCode(K2ExitCode.failure.rawValue) }
    }
}
