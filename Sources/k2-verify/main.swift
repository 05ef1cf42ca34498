// k2-verify: row-count, offset and payload parity between Bronze tables, Kafka topics and capture logs.
import K2Core
import ArgumentParser
import CatalogCLI
import Dispatch
import Foundation
import Iceberg
import K2CLI
import Parity
import ParitySides

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k2-verify",
        abstract: "Row-count, offset and payload parity between Bronze tables, Kafka topics and capture logs.",
        discussion: """
        Compares two sides per Kafka topic partition: row counts, distinct offsets, min/max offset, missing offset ranges on each side ([first, last]), duplicated offsets, and with --payload a hash of each offset's raw_bytes (the Kafka value). A side is an Iceberg table NAMESPACE.TABLE in --catalog, a Kafka topic kafka://HOST:PORT/TOPIC (what it still holds), or a segment log captured from Kafka, log:DIR.

        Offsets below a Kafka partition's earliest offset (dropped by retention) are reported as such, never as missing. Table sides also get a health check: data files added by more than one snapshot, total-records of the snapshot summary against rows read, delete files, and the engines' commit markers. The report format (JSON keys, text table, HTML) is described in docs/verify-report.md.

        Exit codes: 0 parity, 1 mismatch found, 2 could not check (why: stderr), 130 interrupted.

        Examples:
          k2-verify --warehouse var/wh --left market_data.bronze_binance_trades --right market_data.bronze_binance_trades_flink
          k2-verify --warehouse var/wh --left market_data.bronze_binance_trades --right market_data.bronze_binance_trades_flink --truth kafka://localhost:9092/market.crypto.trades.binance.raw --payload --since 2024-02-09 --until 2024-02-10 --partitions 0-5 --json
          k2-verify --warehouse var/wh --left market_data.bronze_binance_trades --right kafka://localhost:9092/market.crypto.trades.binance.raw --html parity.html
          k2-verify --left log:var/backup --right kafka://localhost:9092/market.crypto.trades.binance.raw
          k2-verify --warehouse var/wh --left market_data.bronze_binance_trades --right kafka://localhost:9092/market.crypto.trades.binance.raw --offsets 0:10-19,3:10-19
          k2-verify --catalog postgresql://iceberg@postgres:5432/iceberg --s3-endpoint http://minio:9000 --left market_data.bronze_binance_trades --right market_data.bronze_binance_trades_flink
          k2-verify --catalog rest:http://iceberg-rest:8181 --s3-endpoint http://minio:9000 --left market_data.bronze_binance_trades --right market_data.bronze_binance_trades_flink

        Secrets come from the environment only (PGPASSWORD, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, K2_ICEBERG_TOKEN).


        """ + CatalogAddress.forms,
        version: ToolkitVersion.current)

    @OptionGroup(title: "Iceberg catalog (for table sides)") var catalogOptions: CatalogOptions

    @Option(help: "Left side: NAMESPACE.TABLE, kafka://HOST:PORT/TOPIC or log:DIR.")
    var left: String

    @Option(help: "Right side: NAMESPACE.TABLE, kafka://HOST:PORT/TOPIC or log:DIR.")
    var right: String

    @Option(help: "Kafka as the truth both sides should match: kafka://HOST:PORT/TOPIC (or log:DIR).")
    var truth: String?

    @Flag(help: "Also compare each offset's payload (raw_bytes / the Kafka value) by hash.")
    var payload = false

    @Option(help: "Only records with kafka_timestamp at or after this time (RFC 3339, date, epoch s or ms).")
    var since: String?

    @Option(help: "Only records with kafka_timestamp before this time.")
    var until: String?

    @Option(help: "Only these Kafka partitions, e.g. 0,1,4-7.")
    var partitions: String?

    @Option(help: ArgumentHelp("Only these offsets (every side). " + OffsetRangesArgument.offsetsHelp, valueName: "ranges"))
    var offsets: String?

    @Option(name: .customLong("snapshot-left"), help: "Check the left table at this snapshot id.")
    var snapshotLeft: Int64?

    @Option(name: .customLong("snapshot-right"), help: "Check the right table at this snapshot id.")
    var snapshotRight: Int64?

    @Option(name: .customLong("as-of"), help: "Check both tables at their snapshots current at this time.")
    var asOf: String?

    @Flag(help: "Write the JSON report (docs/verify-report.md) to stdout instead of the table.")
    var json = false

    @Option(help: "Also write a self-contained HTML report to this file.")
    var html: String?

    @Flag(help: "No progress lines on stderr (rows read, rate and, for tables, ETA, about once a second while reading).")
    var quiet = false

    func run() throws {
        let configuration = try makeConfiguration()
        let cancellation = CancellationSignal()
        // A check writes nothing until it ends: waiting on a silent server (a catalog or S3 call does not see the
        // cancellation), it exits 130 anyway a second after the signal, or at a second signal.
        let signals = InterruptSignals(cancelling: cancellation, exitAfter: 1)
        defer { withExtendedLifetime(signals) {} }
        let report: ParityReport
        do {
            report = try waitForAsync {
                let catalog = try await openCatalog(if: [configuration.left, configuration.right].contains { $0.isTable })
                let progress = ProgressLines(program: "k2-verify", unit: "rows", quiet: quiet)
                return try await ParityCheck(configuration: configuration, catalog: catalog)
                    .run(cancellation: cancellation, diagnostics: { StandardError.print("k2-verify: \($0)") },
                         progress: { progress.update(done: $0, total: $1) })
            }
        } catch is CancellationError {
            throw ProgramFailure("interrupted", code: .interrupted)
        } catch {
            throw ProgramFailure("could not check: \(error)", code: .unusable)
        }
        if json {
            try JSONReport.write(report, program: "k2-verify", format: 1)
        } else {
            FileHandle.standardOutput.write(Data(ParityTextRenderer.render(report).utf8))
        }
        if let html {
            do {
                try ParityHTMLRenderer.render(report).write(toFile: html, atomically: true, encoding: .utf8)
            } catch {
                throw ProgramFailure("cannot write HTML report \(html): \(error.localizedDescription)", code: .unusable)
            }
        }
        if !report.parity { throw ExitCode(K2ExitCode.failure.rawValue) }
    }

    func makeConfiguration() throws -> ParityCheckConfiguration {
        func micros(_ text: String?, _ option: String) throws -> Int64? {
            guard let text else { return nil }
            guard let nanos = TimeParser.epochNanoseconds(text) else { throw UsageError("\(option) \(text): not a time") }
            return nanos / 1000
        }
        if snapshotLeft != nil || snapshotRight != nil, asOf != nil {
            throw UsageError("--as-of and --snapshot-left/--snapshot-right exclude each other")
        }
        let scope = ParityScope(sinceMicros: try micros(since, "--since"), untilMicros: try micros(until, "--until"),
                                partitions: try partitions.map(parsePartitions),
                                offsets: try OffsetRangesArgument.parse(offsets: offsets, fromOffset: nil))
        let truthSide = try truth.map { try ParitySide(parsing: $0, snapshotId: nil, option: "--truth") }
        if let truthSide, truthSide.isTable {
            throw UsageError("--truth \(truthSide): the truth is a Kafka topic (kafka://HOST:PORT/TOPIC) or a capture log (log:DIR)")
        }
        return ParityCheckConfiguration(left: try ParitySide(parsing: left, snapshotId: snapshotLeft, option: "--left"),
                                        right: try ParitySide(parsing: right, snapshotId: snapshotRight, option: "--right"),
                                        truth: truthSide, scope: scope, comparePayload: payload,
                                        asOfMillis: try micros(asOf, "--as-of").map { $0 / 1000 })
    }

    /// The catalog of `--catalog` (or `--warehouse DIR`'s embedded sqlite:DIR/catalog.db), opened by the
    /// library's opener shared with k2-replay; nil when no side is a table.
    func openCatalog(if needed: Bool) async throws -> (any Catalog)? {
        guard needed else { return nil }
        let opener = catalogOptions.opener
        guard opener.catalog != nil || opener.warehouse != nil else {
            throw UsageError("a table side needs --catalog (or --warehouse DIR for sqlite:DIR/catalog.db)")
        }
        do { return try await opener.open(create: false) } catch let error as CatalogOpenError { throw UsageError(error.description) }
    }
}

ProgramMain.run(Verify.self)
