import ArgumentParser
import Bronze
import CatalogCLI
import Iceberg

/// The options of `--to iceberg` and of the Kafka topic source (`--from kafka://HOST:PORT/TOPIC`).
struct IcebergOptions: ParsableArguments {
    enum IngestionTime: String, ExpressibleByArgument { case replay, capture }

    @OptionGroup var catalogOptions: CatalogOptions
    @Option(help: "--to iceberg: the table, market_data.NAME (e.g. market_data.bronze_binance_trades).")
    var table: String?
    @Option(help: "--to iceberg: spark or flink: the Bronze table shape of the K2 job to match.")
    var style: String = "spark"
    @Flag(help: "--to iceberg: create the table (and namespace) when missing, exactly as the chosen job would.")
    var create = false
    @Option(name: .customLong("commit-rows"), help: "--to iceberg: commit after this many rows.")
    var commitRows: Int = 100_000
    @Option(name: .customLong("commit-seconds"), help: "--to iceberg: commit at least this often (seconds).")
    var commitSeconds: Double = 10
    @Option(name: .customLong("ingestion-time"), help: "--to iceberg: replay (this run's clock, as the jobs do) or capture (the record's receive time).")
    var ingestionTime: IngestionTime = .replay
    @Option(help: "i/n: take the i-th (0-based) of n disjoint shares of the source (--to iceberg: by stream or Kafka partition; a kafka:// source into Kafka: by partition).")
    var shard: String?
    @Option(name: .customLong("from-offset"), help: "kafka:// source: earliest, latest or an offset N, for every partition.")
    var fromOffset: String = "earliest"
    @Option(name: .customLong("from-time"), help: "kafka:// source: start at the first record with this timestamp or later.")
    var fromTime: String?
    @Option(name: .customLong("until-time"), help: "kafka:// source: stop each partition at its first record at or after this time.")
    var untilTime: String?
    @Flag(name: .customLong("until-end"), help: "kafka:// source: stop at the end offsets seen at start (always the bound; the default).")
    var untilEnd = false

    var tableStyle: BronzeTableStyle? { BronzeTableStyle(rawValue: style) }

    /// The catalog these options name (the option group k2-verify shares).
    var catalogOpener: CatalogOpener { catalogOptions.opener }

    /// (index, count) of `--shard`, (0, 1) without it.
    func shardParts() throws -> (Int, Int) {
        guard let shard else { return (0, 1) }
        let parts = shard.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n > 0, i >= 0, i < n else {
            throw ValidationError("--shard expects i/n with 0 <= i < n, got \(shard)")
        }
        return (i, n)
    }
}
