// The usage example of docs/library.md, compiled and run by LibraryExampleTests (the docs quote this file
// between the markers; a test checks they agree).
// example:begin
import Iceberg
import K2Core
import Parity
import ParitySides
import Replay

/// Replays a capture log into Kafka (K2's topics and JSON values), backfills a Spark-style Bronze table from
/// the Binance topic, and checks the table against the topic offset by offset.
func backfillAndCheck(log: String, bootstrap: String, warehouse: String) async throws -> ParityReport {
    let stop = CancellationSignal()   // cancel() from a signal handler or another task ends the work early
    let topic = "market.crypto.trades.binance.raw"

    var toKafka = ReplayConfiguration(origin: .segmentLog(directory: log))
    toKafka.bootstrap = .servers(bootstrap)
    toKafka.format = .json
    toKafka.stateDirectory = warehouse + "/replay-state"
    let replayed = try ReplayEngine(configuration: toKafka, stop: stop, diagnostics: { print($0.text) }).run()
    print("produced \(replayed.messages) messages")

    let catalog = CatalogOpener(catalog: "sqlite:\(warehouse)/catalog.db", warehouse: warehouse)
    var toTable = ReplayConfiguration(origin: .kafka(bootstrap: bootstrap, topic: topic))
    toTable.target = .iceberg
    toTable.iceberg = IcebergTarget(catalog: catalog, table: "market_data.bronze_binance_trades", style: .spark)
    toTable.iceberg?.create = true
    _ = try ReplayEngine(configuration: toTable, stop: stop, diagnostics: { print($0.text) }).run()

    let check = ParityCheck(
        configuration: ParityCheckConfiguration(
            left: .table(try TableIdentifier("market_data.bronze_binance_trades")),
            right: .kafka(bootstrap: bootstrap, topic: topic)),
        catalog: try await catalog.open())
    return try await check.run(cancellation: stop, diagnostics: { print($0) })
}
// example:end
