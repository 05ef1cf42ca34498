import K2Core
import Iceberg
import Parity

/// A parity check as a library call: opens the configured sides (tables through `catalog`, Kafka topics,
/// capture logs) and compares them with `ParityEngine`.
///
///     let check = ParityCheck(configuration: ParityCheckConfiguration(
///         left: .table(try TableIdentifier("market_data.bronze_binance_trades")),
///         right: .kafka(bootstrap: "localhost:9092", topic: "market.crypto.trades.binance.raw")),
///         catalog: catalog)
///     let report = try await check.run(cancellation: CancellationSignal(), diagnostics: { print($0) })
///
/// Throws `ParityCheckError` when the sides cannot be read as asked, `CancellationError` once `cancellation`
/// is set (checked between files, row groups and messages). A mismatch is a report, not an error.
public struct ParityCheck: Sendable {
    public let configuration: ParityCheckConfiguration
    /// The catalog table sides are loaded from (nil when no side is a table).
    public let catalog: (any Catalog)?

    public init(configuration: ParityCheckConfiguration, catalog: (any Catalog)? = nil) {
        self.configuration = configuration
        self.catalog = catalog
    }

    /// `diagnostics` receives what is worth telling but no reason to stop (a segment log's torn tail);
    /// `progress` the rows read so far over all sides and passes, after each chunk, and the rows expected in
    /// all when every side knows its count before reading (tables: `total-records`) and no scope cuts them
    /// (a program prints it).
    public func run(cancellation: CancellationSignal, diagnostics: @escaping @Sendable (String) -> Void,
                    progress: @escaping @Sendable (_ rowsRead: Int64, _ expectedRows: Int64?) -> Void = { _, _ in }) async throws -> ParityReport {
        if let truth = configuration.truth, truth.isTable {
            throw ParityCheckError("truth \(truth): the truth is a Kafka topic (kafka://HOST:PORT/TOPIC) or a capture log (log:DIR)")
        }
        let left = try await open(configuration.left, role: "left", cancellation: cancellation, diagnostics: diagnostics)
        let right = try await open(configuration.right, role: "right", cancellation: cancellation, diagnostics: diagnostics)
        var truth: ParitySource?
        if let side = configuration.truth { truth = try await open(side, role: "truth", cancellation: cancellation, diagnostics: diagnostics) }
        try cancellation.check()
        let engine = ParityEngine(options: ParityOptions(scope: configuration.scope, comparePayload: configuration.comparePayload))
        var rows: Int64 = 0   // the engine scans one side at a time, on this task
        let sides: [ParitySource] = [left, right] + (truth.map { [$0] } ?? [])
        let scope = configuration.scope
        let unscoped = scope.sinceMicros == nil && scope.untilMicros == nil && scope.partitions == nil
        let perPass = sides.map(\.expectedRows).reduce(Int64(0) as Int64?) { total, side in total.flatMap { t in side.map { t + $0 } } }
        // A payload check reads every side a second time for the hashes.
        let expected = unscoped ? perPass.map { $0 * (configuration.comparePayload ? 2 : 1) } : nil
        let count: (Int64) -> Void = { rows += $0; progress(rows, expected) }
        return try await engine.run(left: CountingParitySource(left, rowsRead: count), right: CountingParitySource(right, rowsRead: count),
                                    truth: truth.map { CountingParitySource($0, rowsRead: count) })
    }

    /// The offsets one side holds per partition within `scope` (each offset once, however many rows hold it):
    /// what a repair checks before it writes. Reads the side as a check's first pass does.
    public static func offsets(of side: ParitySide, scope: ParityScope, catalog: (any Catalog)?, cancellation: CancellationSignal,
                               diagnostics: @escaping @Sendable (String) -> Void) async throws -> [PartitionKey: [OffsetRange]] {
        let check = ParityCheck(configuration: ParityCheckConfiguration(left: side, right: side, scope: scope), catalog: catalog)
        let source = try await check.open(side, role: "side", cancellation: cancellation, diagnostics: diagnostics)
        var coverage: [PartitionKey: OffsetCoverage] = [:]
        try await source.scan(scope: scope, partitions: nil, payload: false) { chunk in
            guard scope.contains(partition: chunk.key.partition) else { return }
            var tally = coverage.removeValue(forKey: chunk.key) ?? OffsetCoverage()
            for index in 0..<chunk.count where !scope.filtersRows || scope.contains(partition: chunk.key.partition, offset: chunk.offsets[index],
                                                                                   timestampMicros: chunk.timestampsMicros[index]) {
                tally.add(chunk.offsets[index], chunk.offsets[index])
            }
            coverage[chunk.key] = tally
        }
        return coverage.mapValues(\.distinctRanges)
    }

    private func open(_ side: ParitySide, role: String, cancellation: CancellationSignal,
                      diagnostics: @escaping @Sendable (String) -> Void) async throws -> ParitySource {
        switch side {
        case .kafka(let bootstrap, let topic):
            return KafkaParitySource(bootstrap: bootstrap, topic: topic, stallTimeoutMs: configuration.kafkaStallTimeoutMs,
                                     cancellation: cancellation, diagnostics: { diagnostics($0) })
        case .log(let directory):
            return LogParitySource(directory: directory, cancellation: cancellation, diagnostics: diagnostics)
        case .table(let identifier, let snapshotId):
            guard let catalog else { throw ParityCheckError("\(role) \(identifier): a table side needs a catalog") }
            let table: Table
            do {
                table = try await catalog.loadTable(identifier)
            } catch {
                throw ParityCheckError("\(role) table \(identifier) in catalog \(catalog.name): \(error)")
            }
            return try IcebergParitySource(table: table, snapshotId: snapshotId, asOfMillis: configuration.asOfMillis,
                                           catalogName: catalog.name, cancellation: cancellation)
        }
    }
}
