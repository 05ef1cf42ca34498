import ArgumentParser
import Bronze
import CatalogCLI
import K2CLI
import K2Core
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
    @Option(name: .customLong("from-offset"), help: ArgumentHelp("kafka:// source: " + OffsetRangesArgument.fromOffsetHelp, valueName: "earliest|latest|n"))
    var fromOffset: String?
    @Option(help: ArgumentHelp("kafka:// source: " + OffsetRangesArgument.offsetsHelp, valueName: "ranges"))
    var offsets: String?
    @Option(help: ArgumentHelp("""
        --to iceberg from a kafka:// source (or a log captured from it): a k2-verify --json report. Writes into --table \
        exactly the offsets the report lists as missing there, after checking the table and the source again: what \
        the table holds by now is not written, what the source no longer holds is listed (exit 1); removes the extra \
        rows of offsets it lists as duplicated there (position deletes, one row kept per offset); a rerun writes \
        nothing. With --dry-run: what it would write and remove.
        """, valueName: "report.json"))
    var repair: String?
    @Option(name: .customLong("repair-side"), help: "With --repair: left or right, the report's side that --table is (default: the one table side with something to repair).")
    var repairSide: String?
    @Flag(name: .customLong("until-end"), help: "kafka:// source: stop at the end offsets seen at start (always the bound).")
    var untilEnd = false
    @Flag(help: "kafka:// source into --to iceberg: no end offsets, keep following the growing topic (committing every --commit-rows rows or --commit-seconds) until SIGINT/SIGTERM; a rerun resumes after the last committed offset.")
    var follow = false

    func validate() throws {
        _ = try offsetRanges()
        if let repairSide, !["left", "right"].contains(repairSide) { throw ValidationError("--repair-side must be left or right") }
        if repairSide != nil && repair == nil { throw ValidationError("--repair-side needs --repair REPORT") }
        if repair != nil && (offsets != nil || fromOffset != nil || shardText != nil) {
            throw ValidationError("--repair takes its offsets from the report: leave out --offsets, --from-offset and --shard")
        }
        _ = try shard()
        if BronzeTableStyle(rawValue: style) == nil { throw ValidationError("--style must be spark or flink") }
        if let exchange, BronzeExchange(rawValue: exchange) == nil { throw ValidationError("--exchange must be binance or kraken") }
        if follow && untilEnd { throw ValidationError("choose --follow or --until-end") }
        if commitRows < 1 { throw ValidationError("--commit-rows must be at least 1") }
        if !(commitSeconds > 0) { throw ValidationError("--commit-seconds must be positive") }
    }

    /// `--offsets` or `--from-offset`: every offset of every partition without them.
    func offsetRanges() throws -> PartitionOffsetRanges {
        do {
            return try OffsetRangesArgument.parse(offsets: offsets, fromOffset: fromOffset) ?? .everything
        } catch let error as UsageError {
            throw ValidationError(error.description)
        }
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
