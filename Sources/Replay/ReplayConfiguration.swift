import Bronze
import Foundation
import Iceberg
import K2Core

/// Everything that decides what a replay reads, where it writes and how: plain values, built by the
/// program from its options (or by any Swift caller).
public struct ReplayConfiguration {
    public enum Target: String, Sendable { case kafka, jsonl, iceberg }

    /// Where the target Kafka is.
    public enum Bootstrap: Equatable, Sendable {
        /// `HOST:PORT[,...]`.
        case servers(String)
        /// An in-process mock cluster, gone when the run ends.
        case embedded
    }

    public var origin: ReplayOrigin
    public var target: Target = .kafka
    /// Count what would be written, write nothing.
    public var dryRun = false
    public var bootstrap: Bootstrap?
    /// librdkafka properties, for every client (source and target): `-X` merged with `K2_KAFKA_*` (`KafkaProperties.merged`).
    public var kafkaProperties: [(key: String, value: String)] = []

    // Selection.
    /// Log sources to read (binance, kraken, kafka:TOPIC); nil: all.
    public var sources: Set<String>?
    /// Symbols, pairs or stream names (BTCUSDT, XBT/USD, btcusdt@trade); nil: all.
    public var symbols: [String]?
    /// Inclusive start: a log record's receive time, a Kafka record's timestamp (nanoseconds since the epoch).
    public var sinceNanos: Int64?
    /// Exclusive end, as `sinceNanos`.
    public var untilNanos: Int64?
    /// Kafka source: the offsets to read per partition (`--offsets`; `--from-offset N` is `N-` for every partition).
    public var offsets = PartitionOffsetRanges.everything
    /// Kafka source into a table: no end offsets, follow the growing topic (committing every
    /// `iceberg.commitRows` rows or `commitSeconds`) until stopped. Resumed from the table's progress as a
    /// fixed range is.
    public var follow = false
    /// Kafka source: the source partitions to read; nil: all.
    public var sourcePartitions: Set<Int32>?
    /// One of n disjoint shares of the source (Kafka source: by partition; a log into Iceberg: by stream).
    public var shard = ReplayShard.whole

    // Output.
    public var format: BronzeValueFormat = .avroConfluent
    /// Value schema ids per exchange (avro-confluent); nil: registered at `schemaRegistry`.
    public var schemaIds: [BronzeExchange: Int32]?
    public var schemaRegistry: URL?
    /// Every message to this topic instead of K2's.
    public var topic: String?
    /// Partitions of the topics the replay creates (and assumed by a dry run without a cluster).
    public var topicPartitions: Int32 = 6
    public var pacing = ReplayPacing.unpaced
    /// A log into Kafka replayed pass after pass, each re-stamped (docs/replay.md, "Passes"); nil: once.
    public var passes: ReplayPasses?
    /// The pass being replayed (set by the pass loop for each pass).
    var restamp: PassStamp?
    /// A k2-replay-id header on each message (K2's messages have none).
    public var provenance = false
    /// JSON lines: leave out control records.
    public var dataOnly = false
    /// Seconds between progress lines (`ProgressMeter`; k2-replay takes it from K2_PROGRESS_INTERVAL).
    public var progressIntervalSeconds = ProgressMeter.defaultIntervalSeconds
    /// JSON lines go here.
    public var jsonlOutput: UnsafeMutablePointer<FILE> = stdout

    // Resume into Kafka.
    /// Directory of the checkpoints; nil: `CheckpointStore.defaultDirectory()`.
    public var stateDirectory: String?
    public var checkpointIntervalSeconds: Double = 1

    /// `target == .iceberg`: the table and how rows are committed.
    public var iceberg: IcebergTarget?

    public init(origin: ReplayOrigin) { self.origin = origin }
}

/// The i-th (0-based) of n disjoint shares of a source; together the n shares cover it.
public struct ReplayShard: Equatable, Sendable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    public static let whole = ReplayShard(uncheckedIndex: 0, count: 1)

    /// nil unless 0 <= index < count.
    public init?(index: Int, count: Int) {
        guard count > 0, index >= 0, index < count else { return nil }
        self.index = index
        self.count = count
    }

    private init(uncheckedIndex: Int, count: Int) {
        index = uncheckedIndex
        self.count = count
    }

    /// `i/n`.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else { return nil }
        self.init(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// Whether Kafka partition `partition` is in this share (`partition % n == i`).
    public func contains(partition: Int32) -> Bool { Int(partition) % count == index }

    /// Whether log stream `source/stream` is in this share: FNV-1a of `source/stream`, so shares do not depend
    /// on which streams exist.
    public func contains(source: String, stream: String) -> Bool {
        guard count > 1 else { return true }
        var hasher = FNV1a()
        hasher.combineField(source)
        hasher.combine(stream.utf8)
        return Int(hasher.value % UInt64(count)) == index
    }
}

/// The Bronze table of `--to iceberg` and how rows are committed to it.
public struct IcebergTarget {
    public var catalog: CatalogOpener
    /// `namespace.name`.
    public var table: String
    public var style: BronzeTableStyle
    /// Create the table (and namespace) when missing, as the chosen job would.
    public var create = false
    public var commitRows = 100_000
    public var commitSeconds: Double = 10
    /// `ingestion_timestamp` from the record's receive time instead of the replay's clock.
    public var captureIngestionTime = false
    /// The exchange of a table `--create` makes (its properties name it); nil: from the selected streams.
    public var exchange: BronzeExchange?

    public init(catalog: CatalogOpener, table: String, style: BronzeTableStyle) {
        self.catalog = catalog
        self.table = table
        self.style = style
    }
}
