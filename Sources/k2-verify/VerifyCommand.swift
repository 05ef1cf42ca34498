import ArgumentParser
import CatalogCLI
import Foundation
import Iceberg
import K2CLI
import Parity

@main
struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k2-verify",
        abstract: "Row-count, offset and payload parity between Bronze tables, Kafka topics and capture logs.",
        discussion: """
        Compares two sides per Kafka topic partition: row counts, distinct offsets,
        min/max offset, missing offset ranges on each side ([first, last]),
        duplicated offsets, and with --payload a hash of each offset's raw_bytes
        (the Kafka value). A side is one of:
          market_data.TABLE          an Iceberg table in --catalog
          kafka://HOST:PORT/TOPIC    what the topic still holds
          log:DIR                    a segment log captured from Kafka
        Offsets below a Kafka partition's earliest offset (dropped by retention)
        are reported as such, never as missing. Table sides also get a health
        check: data files added by more than one snapshot, total-records of the
        snapshot summary against rows read, and the engines' commit markers.

        Exit codes: 0 parity, 1 mismatch found, 2 could not check (why: stderr).

        Examples:
          Spark against Flink Bronze in the embedded SQLite catalog:
            k2-verify --catalog sqlite:var/catalog.db \\
              --left market_data.bronze_binance_trades \\
              --right market_data.bronze_binance_trades_flink

          Both tables against Kafka, payloads too, one day, partitions 0-5, JSON:
            k2-verify --catalog sqlite:var/catalog.db \\
              --left market_data.bronze_binance_trades \\
              --right market_data.bronze_binance_trades_flink \\
              --truth kafka://localhost:9092/market.crypto.trades.binance.raw \\
              --payload --since 2024-02-09 --until 2024-02-10 --partitions 0-5 \\
              --json > parity.json

          A table at a pinned snapshot against its topic, with an HTML page:
            k2-verify --catalog sqlite:var/catalog.db \\
              --left market_data.bronze_kraken_trades --snapshot-left 4012 \\
              --right kafka://localhost:9092/market.crypto.trades.kraken.raw \\
              --html parity.html

          A capture log against the topic it was captured from:
            k2-verify --left log:var/capture \\
              --right kafka://localhost:9092/market.crypto.trades.binance.raw

          Spark against Flink Bronze in K2's catalogs (PostgreSQL behind the REST
          catalog; data on MinIO), secrets from the environment only:
            export PGPASSWORD=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=...
            k2-verify --catalog postgresql://iceberg@postgres:5432/iceberg \\
              --s3-endpoint http://minio:9000 \\
              --left market_data.bronze_binance_trades \\
              --right market_data.bronze_binance_trades_flink
            K2_ICEBERG_TOKEN=... k2-verify --catalog rest:http://iceberg-rest:8181 \\
              --s3-endpoint http://minio:9000 --left ... --right ...

        The report format (JSON keys, text table, HTML) is described in
        docs/verify-report.md.

        """ + CatalogAddress.forms,
        version: ToolkitVersion.current)

    @OptionGroup(title: "Iceberg catalog (for table sides)") var catalogOptions: CatalogOptions

    @Option(help: "Left side: NAMESPACE.TABLE, kafka://HOST:PORT/TOPIC or log:DIR.")
    var left: String

    @Option(help: "Right side: NAMESPACE.TABLE, kafka://HOST:PORT/TOPIC or log:DIR.")
    var right: String

    @Option(help: "Kafka as the truth both sides should match: kafka://HOST:PORT/TOPIC.")
    var truth: String?

    @Flag(help: "Also compare each offset's payload (raw_bytes / the Kafka value) by hash.")
    var payload = false

    @Option(help: "Only records with kafka_timestamp at or after this time (RFC 3339, date, epoch s or ms).")
    var since: String?

    @Option(help: "Only records with kafka_timestamp before this time.")
    var until: String?

    @Option(help: "Only these Kafka partitions, e.g. 0,1,4-7.")
    var partitions: String?

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

    static func main() async {
        // A check writes nothing: SIGINT/SIGTERM end it at once, even while it waits on a silent server.
        signal(SIGINT) { _ in _exit(130) }
        signal(SIGTERM) { _ in _exit(130) }
        do {
            let command = try parse()
            let code = await command.check()
            Foundation.exit(code.rawValue)
        } catch {
            // Help and version are clean exits on stdout; bad arguments are "could not check" (2).
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            ProgramMain.couldNotRun(fullMessage(for: error), program: "k2-verify", json: CommandLine.arguments.contains("--json"))
        }
    }

    func check() async -> K2ExitCode {
        do {
            let report = try await makeReport()
            if json {
                try JSONReport.write(report, program: "k2-verify", format: 1)
            } else {
                FileHandle.standardOutput.write(Data(ParityTextRenderer.render(report).utf8))
            }
            if let html {
                do {
                    try ParityHTMLRenderer.render(report).write(toFile: html, atomically: true, encoding: .utf8)
                } catch {
                    throw VerifyFailure("cannot write HTML report \(html): \(error.localizedDescription)")
                }
            }
            return report.parity ? .success : .failure
        } catch {
            ProgramMain.couldNotRun("could not check: \(error)", program: "k2-verify", json: json)
        }
    }

    func makeReport() async throws -> ParityReport {
        var scope = ParityScope()
        if let since {
            guard let nanos = TimeParser.epochNanoseconds(since) else { throw VerifyFailure("--since \(since): not a time") }
            scope.sinceMicros = nanos / 1000
        }
        if let until {
            guard let nanos = TimeParser.epochNanoseconds(until) else { throw VerifyFailure("--until \(until): not a time") }
            scope.untilMicros = nanos / 1000
        }
        if let partitions { scope.partitions = try PartitionListParser.parse(partitions) }
        var asOfMillis: Int64?
        if let asOf {
            guard let nanos = TimeParser.epochNanoseconds(asOf) else { throw VerifyFailure("--as-of \(asOf): not a time") }
            asOfMillis = nanos / 1_000_000
        }
        let leftSpec = try SideSpecification(parsing: left)
        let rightSpec = try SideSpecification(parsing: right)
        let truthSpec = try truth.map { try SideSpecification(parsing: $0) }
        if let truthSpec, case .table = truthSpec {
            throw VerifyFailure("--truth \(truthSpec): the truth is a Kafka topic (kafka://HOST:PORT/TOPIC) or a capture log (log:DIR)")
        }
        if snapshotLeft != nil || snapshotRight != nil, asOf != nil {
            throw VerifyFailure("--as-of and --snapshot-left/--snapshot-right exclude each other")
        }

        let opener = catalogOptions.opener
        let factory = SideFactory(opener: opener, scope: scope, asOfMillis: asOfMillis)
        let leftSource = try await factory.make(leftSpec, snapshotId: snapshotLeft, role: "--left")
        let rightSource = try await factory.make(rightSpec, snapshotId: snapshotRight, role: "--right")
        var truthSource: ParitySource?
        if let truthSpec { truthSource = try await factory.make(truthSpec, snapshotId: nil, role: "--truth") }
        let engine = ParityEngine(options: ParityOptions(scope: scope, comparePayload: payload))
        return try await engine.run(left: leftSource, right: rightSource, truth: truthSource)
    }
}
