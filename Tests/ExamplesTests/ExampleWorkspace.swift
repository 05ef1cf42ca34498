import Foundation
import TestSupport

/// The world the documented examples assume, made locally: a working directory with var/log and var/capture
/// (Binance captures), var/wh (the Spark- and Flink-style Bronze tables backfilled from the topic, catalog
/// var/wh/catalog.db), var/backup (the topic saved by k2-capture kafka) and var/parity.json (k2-verify's report of the two tables); an embedded Kafka holding the
/// log's messages; a second one (the examples' other cluster, localhost:9093); a schema registry stand-in;
/// and, when they start, PostgreSQL, S3 and REST catalog stand-ins holding the same tables (`ExampleRemoteServices`).
final class ExampleWorkspace {
    static let binanceTopic = "market.crypto.trades.binance.raw"
    static let krakenTopic = "market.crypto.trades.kraken.raw"

    let directory: URL
    let kafkaPort: Int
    let otherKafkaPort: Int
    let registryURL: String
    /// The stand-ins for PostgreSQL, S3 and a REST catalog; nil when they could not be started (why: `remoteUnavailable`).
    private(set) var remote: ExampleRemoteServices?
    private(set) var remoteUnavailable: String?
    private var services: [BackgroundProcess] = []

    /// PATH with the built programs first, so examples run by name as a user types them.
    var environment: [String: String] {
        let build = URL(fileURLWithPath: TestEnvironment.productPath("k2-replay")).deletingLastPathComponent().path
        return ["PATH": build + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"), "COLUMNS": "1000"]
            .merging(remote?.environment ?? [:]) { $1 }
    }

    init() throws {
        directory = try TestEnvironment.temporaryDirectory("k2-examples")
        let registry = try BackgroundProcess(TestEnvironment.python,
            [TestEnvironment.repositoryRoot.appendingPathComponent("scripts/schema_registry_stub.py").path])
        services.append(registry)
        guard let line = registry.firstLine(), line.hasPrefix("url=") else { throw SetupError("schema registry stub: \(registry.log)") }
        registryURL = String(line.dropFirst(4))
        kafkaPort = try ExampleWorkspace.startKafka(port: try LocalPort.free(), into: &services)
        otherKafkaPort = try ExampleWorkspace.startKafka(port: try LocalPort.free(), into: &services)

        let kafka = "localhost:\(kafkaPort)"
        try run("k2-replay generate-log --out var/log --trades 600")
        try run("k2-replay generate-log --out var/capture --trades 600")
        try run("k2-replay --from var/log --bootstrap \(kafka) --format json --quiet --state-dir var/setup-state")
        for (table, style) in [("market_data.bronze_binance_trades", "spark"), ("market_data.bronze_binance_trades_flink", "flink")] {
            try run("k2-replay --from kafka://\(kafka)/\(ExampleWorkspace.binanceTopic) --to iceberg --warehouse var/wh --table \(table) --style \(style) --create --quiet --state-dir var/setup-state")
        }
        try run("k2-capture kafka --bootstrap \(kafka) --topic \(ExampleWorkspace.binanceTopic) --until-end --out var/backup")
        // The report `--repair var/parity.json` reads.
        try run("k2-verify --warehouse var/wh --left market_data.bronze_binance_trades --right market_data.bronze_binance_trades_flink --json > var/parity.json")
        do {
            remote = try ExampleRemoteServices(kafkaBootstrap: kafka, topic: ExampleWorkspace.binanceTopic) { command, environment in
                try self.run(command, environment: environment)
            }
        } catch {
            remoteUnavailable = "\(error)"
        }
    }

    /// Runs a shell command line in the working directory with the built programs on PATH.
    @discardableResult
    func shell(_ command: String, environment extra: [String: String] = [:]) throws -> ProcessResult {
        // `timeout` only ends a hung example so the test reports it instead of hanging; it measures nothing.
        try ProcessRunner.run("/usr/bin/timeout", ["600", "/bin/sh", "-c", command], environment: environment.merging(extra) { $1 },
                              currentDirectory: directory)
    }

    /// A `--help` text as printed on a terminal 1000 columns wide (argument-parser honours COLUMNS), so no
    /// example is wrapped.
    func help(_ arguments: String) throws -> String {
        try shell(arguments).stdoutText
    }

    /// Starts a long-running command (a server example) in the working directory.
    func start(_ command: String) throws -> BackgroundProcess {
        try BackgroundProcess("/bin/sh", ["-c", "cd '\(directory.path)' && exec \(command)"], environment: environment)
    }

    private func run(_ command: String, environment: [String: String] = [:]) throws {
        let result = try shell(command, environment: environment)
        guard result.status == 0 else { throw SetupError("\(command) exited \(result.status): \(result.stderrText)") }
    }

    private static func startKafka(port: Int, into services: inout [BackgroundProcess]) throws -> Int {
        let kafka = try BackgroundProcess(TestEnvironment.productPath("k2-replay"),
            ["embedded-kafka", "--brokers", "1", "--port", String(port), "--topics", "\(binanceTopic),\(krakenTopic)"])
        services.append(kafka)
        guard kafka.firstLine()?.hasPrefix("bootstrap=") == true, LocalPort.waitUntilListening(port) else {
            throw SetupError("embedded Kafka: \(kafka.log)")
        }
        return port
    }

    func stop() {
        remote?.stop()
        for service in services { service.stop() }
    }

    deinit { stop() }
}

struct SetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
