import ArgumentParser
import Bronze
import BurnIn
import CatalogCLI
import Foundation
import K2CLI
import K2Core
import Kafka
import MetricsEndpoint
import NIOPosix
import Prometheus
import Replay

/// `k2-replay burn-in`: the burn-in engine (BurnIn) from the command line: options in, one engine call,
/// the report written as JSON and HTML, the verdict as the exit code.
struct BurnInCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "burn-in",
        abstract: "Replay a log into Kafka at a fixed rate for a long time, watch the Bronze tables grow, check parity every few minutes.",
        discussion: """
        The log is replayed pass after pass (each pass re-stamped: Binance trade ids + pass × 10^12, times moved to the pass's start) at --rate for --duration. On embedded defaults (--bootstrap embedded, a local warehouse with its SQLite catalog) the burn-in also runs a follow-mode backfill (k2-replay --follow) into each table, in the Spark and Flink jobs' place; with --watch-only (a real stack) the jobs write the tables and it only watches them. Every --verify-every it checks each table against the topic (k2-verify's parity check, over the newer half of what the topic holds, up to the offsets the table has committed), and at the end, once the tables caught up, against the whole topic.

        It samples every second: the rate Kafka acknowledged, each table's rows and lag, end-to-end latency (the message's Kafka timestamp to the row's ingestion_timestamp; p50/p99/max in an HdrHistogram), resident memory and CPU (per part, by thread). While it runs they are served as Prometheus metrics at http://--metrics-address/metrics (and /healthz). At the end it writes report.json and report.html (charts: rate, lag, latency, memory) into --report-dir.

        Exit codes: 0 passed; 1 failed: a minute's rate off by more than --rate-tolerance after --warmup, a parity check failed, a table stopped growing, memory grew by more than --memory-growth-limit, a part failed; 2 could not start (bad arguments, unreachable Kafka or catalog, metrics address in use); 130 interrupted.

        Examples:
          k2-replay generate-log --out var/burn-log --trades 1000000 --symbols BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT,XRPUSDT,ADAUSDT --spacing-us 200
          k2-replay burn-in --log var/burn-log --rate 5000 --duration 30m --warehouse var/burn-in/wh --report-dir var/burn-in
          k2-replay burn-in --log var/burn-log --rate 2000 --duration 2m --warmup 30s --verify-every 45s --warehouse var/burn-short/wh --report-dir var/burn-short --metrics-address 0.0.0.0:9478
          k2-replay burn-in --log var/burn-log --bootstrap localhost:9092 --schema-registry http://localhost:8081 --watch-only --catalog rest:http://localhost:8181 --warehouse s3://warehouse --s3-endpoint http://localhost:9000 --duration 7d --verify-every 30m
        """)

    @Option(help: "The segment log to replay.") var log: String
    @Option(help: "Kafka bootstrap servers HOST:PORT[,...], or `embedded` (an in-process cluster, K2's topics made with --topic-partitions).")
    var bootstrap: String = "embedded"
    @Option(help: "Messages per second.") var rate: Double = 5000
    @Option(help: "How long to replay (90s, 30m, 7d).") var duration: String = "30m"
    @Option(help: "Left out of the rate and memory judgements at the start.") var warmup: String = "60s"
    @Option(name: .customLong("verify-every"), help: "Time between parity checks of every table against the topic.") var verifyEvery: String = "5m"
    @Option(name: .customLong("rate-tolerance"), help: "The largest slip of a minute's rate from --rate that passes, as a fraction (0.01: 1%).")
    var rateTolerance: Double = 0.01
    @Option(name: .customLong("memory-growth-limit"), help: "Fail when resident memory in the last minute exceeds the first minute after warm-up by more.")
    var memoryGrowthLimit: ByteSize = ByteSize(bytes: 128 << 20)
    @Option(name: .customLong("stall-after"), help: "A table that gets no rows for this long while the topic is ahead of it has stopped.")
    var stallAfter: String = "60s"
    @Option(help: "The watched tables, style=namespace.name, comma-separated.")
    var tables: String = "spark=market_data.bronze_binance_trades,flink=market_data.bronze_binance_trades_flink"
    @Option(help: "The topic the tables are written from.") var topic: String = BronzeExchange.binance.topic
    @Flag(name: .customLong("watch-only"), help: "Do not write the tables (a real stack's Spark and Flink jobs do): only watch and check them.")
    var watchOnly = false
    @Option(name: .customLong("commit-seconds"), help: "The follow backfills commit at least this often.") var commitSeconds: Double = 5
    @Option(name: .customLong("commit-rows"), help: "The follow backfills commit after this many rows.") var commitRows: Int = 100_000
    @Option(help: "avro-confluent (K2 v1) or json (K2 v2).") var format: String = "avro-confluent"
    @Option(name: .customLong("schema-id"), help: "Schema id for every exchange (N) or per exchange (binance=N,kraken=M); default on embedded Kafka: binance=1,kraken=2.")
    var schemaId: String?
    @Option(name: .customLong("schema-registry"), help: "Register/look up the value schemas at this Schema Registry URL.") var schemaRegistry: String?
    @Option(name: .customLong("topic-partitions"), help: "Partitions of K2's topics on embedded Kafka.") var topicPartitions: Int32 = 6
    @Option(name: .customLong("report-dir"), help: "Where report.json and report.html go (and the replay's state, unless --state-dir).")
    var reportDir: String = "var/burn-in"
    @Option(name: .customLong("state-dir"), help: "The replay's checkpoints and pass ledger (default: <report-dir>/state).") var stateDir: String?
    @Option(name: .customLong("metrics-address"), help: "Serve /metrics and /healthz at HOST:PORT (0.0.0.0:PORT: every interface; none: no server).")
    var metricsAddress: String = "127.0.0.1:9478"
    @Flag(help: "Print the report as JSON on stdout too.") var json = false
    @Flag(help: "Only warnings and the verdict on stderr.") var quiet = false
    @Option(name: .customShort("X"), parsing: .unconditionalSingleValue, help: "librdkafka property key=value (repeatable).")
    var properties: [String] = []
    @OptionGroup(title: "Catalog (default on embedded Kafka: sqlite:<report-dir>/wh/catalog.db, warehouse <report-dir>/wh)") var catalog: CatalogOptions

    func validate() throws {
        for (text, option) in [(duration, "--duration"), (warmup, "--warmup"), (verifyEvery, "--verify-every"), (stallAfter, "--stall-after")] {
            guard let nanos = DurationParser.nanoseconds(text), nanos > 0 else { throw ValidationError("\(option): not a duration: \(text)") }
        }
        if !(rate > 0 && rate <= 1e7) { throw ValidationError("--rate must be in (0, 1e7], got \(rate)") }
        if !(rateTolerance > 0 && rateTolerance < 1) { throw ValidationError("--rate-tolerance must be a fraction in (0, 1), got \(rateTolerance)") }
        if metricsAddress != "none" && MetricsHTTPServer.parseAddress(metricsAddress) == nil {
            throw ValidationError("--metrics-address expects HOST:PORT (or none), got \(metricsAddress)")
        }
        guard BronzeValueFormat(rawValue: format) != nil, format != "raw" else { throw ValidationError("--format must be avro-confluent or json") }
        _ = try burnInTables()
        _ = try schemaIds()
    }

    private func seconds(_ text: String) -> Double { Double(DurationParser.nanoseconds(text)!) / 1e9 }

    func burnInTables() throws -> [BurnInTable] {
        try tables.split(separator: ",").map { item in
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let style = BronzeTableStyle(rawValue: String(parts[0])) else {
                throw ValidationError("--tables expects style=namespace.name,... with style spark or flink, got \(item)")
            }
            return BurnInTable(name: String(parts[1]), style: style)
        }
    }

    func schemaIds() throws -> [BronzeExchange: Int32]? { try SchemaIdsArgument.parse(schemaId) }

    func burnInConfiguration() throws -> BurnInConfiguration {
        var opener = catalog.opener
        if opener.warehouse == nil && opener.catalog == nil { opener.warehouse = reportDir + "/wh" }
        var c = BurnInConfiguration(log: log, catalog: opener, tables: try burnInTables(), stateDirectory: stateDir ?? reportDir + "/state")
        c.bootstrap = bootstrap == "embedded" ? .embedded : .servers(bootstrap)
        do {
            c.kafkaProperties = try KafkaProperties.merged(commandLine: properties)
        } catch {
            throw ValidationError("\(error)")
        }
        c.format = BronzeValueFormat(rawValue: format)!
        c.schemaIds = try schemaIds()
        c.schemaRegistry = schemaRegistry.flatMap(URL.init(string:))
        c.topicPartitions = topicPartitions
        c.topic = topic
        c.ratePerSecond = rate
        c.durationSeconds = seconds(duration)
        c.warmupSeconds = seconds(warmup)
        c.verifyIntervalSeconds = seconds(verifyEvery)
        c.stallSeconds = seconds(stallAfter)
        c.rateTolerance = rateTolerance
        c.memoryGrowthLimitBytes = memoryGrowthLimit.bytes
        c.runBackfills = !watchOnly
        c.commitSeconds = commitSeconds
        c.commitRows = commitRows
        return c
    }

    func run() throws {
        let stop = CancellationSignal()
        let signals = InterruptSignals(cancelling: stop)
        defer { withExtendedLifetime(signals) {} }
        let configuration: BurnInConfiguration
        do { configuration = try burnInConfiguration() } catch { throw ProgramFailure("error: \(error)", code: .unusable) }
        let registry = PrometheusCollectorRegistry()
        var server: MetricsHTTPServer?
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer {
            server?.close()
            try? group.syncShutdownGracefully()
        }
        if let (host, port) = MetricsHTTPServer.parseAddress(metricsAddress), metricsAddress != "none" {
            do {
                server = try MetricsHTTPServer.start(on: group.next(), host: host, port: port) { registry.emitToString() }
            } catch {
                throw ProgramFailure("error: --metrics-address \(metricsAddress): \(error)", code: .unusable)
            }
            StandardError.print("k2-replay burn-in: metrics at http://\(host):\(server!.port)/metrics and /healthz")
        }
        let quiet = self.quiet
        let engine = BurnInEngine(configuration: configuration, stop: stop, metrics: DescribedPrometheusMetricsFactory(registry: registry, help: BurnInMetrics.help),
                                  diagnostics: { text in
                                      if !quiet || text.contains("warning") || text.contains("MISMATCH") {
                                          StandardError.print("k2-replay burn-in: " + text)
                                      }
                                  })
        let report: BurnInReport
        do {
            report = try waitForAsync { try await engine.run() }
        } catch {
            throw ProgramFailure("error: \(error)", code: .unusable)
        }
        do {
            try FileManager.default.createDirectory(atPath: reportDir, withIntermediateDirectories: true)
            try JSONReport.encode(report, program: "k2-replay burn-in", format: 1).write(to: URL(fileURLWithPath: reportDir + "/report.json"))
            try Data(BurnInPage.html(report).utf8).write(to: URL(fileURLWithPath: reportDir + "/report.html"))
        } catch {
            throw ProgramFailure("error: writing the report into \(reportDir): \(error)", code: .failure)
        }
        if json { try JSONReport.write(report, program: "k2-replay burn-in", format: 1) }
        let verdict = report.interrupted ? "interrupted" : report.passed ? "passed" : "FAILED"
        StandardError.print("k2-replay burn-in: \(verdict): \(report.messagesProduced) messages in \(Int(report.seconds)) s; "
                            + "report: \(reportDir)/report.html, \(reportDir)/report.json")
        for failure in report.failures { StandardError.print("k2-replay burn-in: failure: \(failure)") }
        if report.interrupted { throw ExitCode(K2ExitCode.interrupted.rawValue) }
        if !report.passed { throw ExitCode(K2ExitCode.failure.rawValue) }
    }
}
