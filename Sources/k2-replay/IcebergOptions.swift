import ArgumentParser
import Bronze
import CatalogCLI
import Replay

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
    @Option(help: "--to iceberg --create: binance or kraken, the exchange whose table properties to use (default: the one of the selected streams or topic).")
    var exchange: String?
    @Option(name: .customLong("commit-rows"), help: "--to iceberg: commit after this many rows.")
    var commitRows: Int = 100_000
    @Option(name: .customLong("commit-seconds"), help: "--to iceberg: commit at least this often (seconds).")
    var commitSeconds: Double = 10
    @Option(name: .customLong("ingestion-time"), help: "--to iceberg: replay (this run's clock, as the jobs do) or capture (the record's receive time).")
    var ingestionTime: IngestionTime = .replay
    @Option(name: .customLong("shard"), help: "i/n: take the i-th (0-based) of n disjoint shares of the source (a log into Iceberg: by stream; a kafka:// source: by partition).")
    var shardText: String?
    @Option(name: .customLong("from-offset"), help: "kafka:// source: earliest, latest or an offset N, for every partition.")
    var fromOffset: String = "earliest"
    @Flag(name: .customLong("until-end"), help: "kafka:// source: stop at the end offsets seen at start (always the bound).")
    var untilEnd = false

    func validate() throws {
        if ["beginning", "end"].contains(fromOffset) {
            throw ValidationError("--from-offset \(fromOffset): use earliest or latest")
        }
        if SourceStartOffset(fromOffset) == nil { throw ValidationError("--from-offset: earliest, latest or N, got \(fromOffset)") }
        _ = try shard()
        if BronzeTableStyle(rawValue: style) == nil { throw ValidationError("--style must be spark or flink") }
        if let exchange, BronzeExchange(rawValue: exchange) == nil { throw ValidationError("--exchange must be binance or kraken") }
        if commitRows < 1 { throw ValidationError("--commit-rows must be at least 1") }
        if !(commitSeconds > 0) { throw ValidationError("--commit-seconds must be positive") }
    }

    /// `--shard i/n`, the whole source without it.
    func shard() throws -> ReplayShard {
        guard let shardText else { return .whole }
        guard let shard = ReplayShard(shardText) else { throw ValidationError("--shard expects i/n with 0 <= i < n, got \(shardText)") }
        return shard
    }

    /// The table of `--to iceberg`.
    func target() throws -> IcebergTarget {
        guard let table else { throw ValidationError("--to iceberg needs --table market_data.NAME") }
        var target = IcebergTarget(catalog: catalogOptions.opener, table: table, style: BronzeTableStyle(rawValue: style)!)
        target.create = create
        target.commitRows = commitRows
        target.commitSeconds = commitSeconds
        target.captureIngestionTime = ingestionTime == .capture
        target.exchange = exchange.flatMap(BronzeExchange.init(rawValue:))
        return target
    }
}
