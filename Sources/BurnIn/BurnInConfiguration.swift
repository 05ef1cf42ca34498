import Bronze
import Foundation
import Iceberg
import Replay

/// What a burn-in replays, at what rate and for how long, which Bronze tables it watches and when it fails.
/// Plain values, built by `k2-replay burn-in` from its options (or by any Swift caller).
public struct BurnInConfiguration: Sendable {
    /// The segment log replayed pass after pass (re-stamped) into Kafka.
    public var log: String
    /// `.embedded`: an in-process cluster (K2's topics made with `topicPartitions`), gone when the burn-in ends.
    public var bootstrap: ReplayConfiguration.Bootstrap = .embedded
    /// librdkafka properties for every client: `-X` merged with `K2_KAFKA_*` (`KafkaProperties.merged`).
    public var kafkaProperties: [(key: String, value: String)] = []
    public var format: BronzeValueFormat = .avroConfluent
    /// Value schema ids (avro-confluent); nil: registered at `schemaRegistry`, or 1 and 2 on an embedded Kafka.
    public var schemaIds: [BronzeExchange: Int32]?
    public var schemaRegistry: URL?
    public var topicPartitions: Int32 = 6
    /// The topic the watched tables are written from.
    public var topic = BronzeExchange.binance.topic
    public var ratePerSecond: Double = 5000
    public var durationSeconds: Double = 1800
    public var catalog: CatalogOpener
    public var tables: [BurnInTable]
    /// Runs a follow-mode backfill into each table (embedded defaults, in the jobs' place); false: a real
    /// stack's Spark and Flink jobs write the tables and the burn-in only watches them.
    public var runBackfills = true
    public var commitSeconds: Double = 5
    public var commitRows = 100_000
    /// Seconds between parity checks of every table against the topic (a last one runs at the end).
    public var verifyIntervalSeconds: Double = 300
    /// Seconds at the start left out of the rate and memory judgements.
    public var warmupSeconds: Double = 60
    /// The largest relative slip of a minute's rate from `ratePerSecond` that passes (0.01: 1%).
    public var rateTolerance = 0.01
    /// A table whose rows have not grown for this long while the topic is ahead of it has stopped.
    public var stallSeconds: Double = 60
    /// Memory keeps growing when the last minute's resident size exceeds the first minute after warm-up by more.
    public var memoryGrowthLimitBytes: Int64 = 128 << 20
    /// Seconds the end waits for the tables to catch up with the topic before the last check.
    public var drainSeconds: Double = 120
    /// Checkpoints and pass ledger of the replay.
    public var stateDirectory: String

    public init(log: String, catalog: CatalogOpener, tables: [BurnInTable], stateDirectory: String) {
        self.log = log
        self.catalog = catalog
        self.tables = tables
        self.stateDirectory = stateDirectory
    }
}

/// A Bronze table the burn-in watches (and, with `runBackfills`, writes in follow mode).
public struct BurnInTable: Sendable, Equatable {
    /// `namespace.name`.
    public var name: String
    public var style: BronzeTableStyle

    public init(name: String, style: BronzeTableStyle) {
        self.name = name
        self.style = style
    }
}
