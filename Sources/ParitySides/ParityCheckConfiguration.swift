import Parity

/// What a parity check compares and how: the sides, the scope, payloads, and the table snapshot time.
public struct ParityCheckConfiguration: Sendable {
    public var left: ParitySide
    public var right: ParitySide
    /// A Kafka topic or capture log both sides should match (never a table).
    public var truth: ParitySide?
    public var scope: ParityScope
    /// Compare a hash of each offset's payload (`raw_bytes`, the Kafka value) too.
    public var comparePayload: Bool
    /// Table sides without a snapshot id are read at the snapshot current at this time (ms since the epoch).
    public var asOfMillis: Int64?
    /// A Kafka side gives up when no record arrives for this long while partitions are short of their watermark.
    public var kafkaStallTimeoutMs: Int64

    public init(left: ParitySide, right: ParitySide, truth: ParitySide? = nil, scope: ParityScope = .everything,
                comparePayload: Bool = false, asOfMillis: Int64? = nil, kafkaStallTimeoutMs: Int64 = 30_000) {
        self.left = left
        self.right = right
        self.truth = truth
        self.scope = scope
        self.comparePayload = comparePayload
        self.asOfMillis = asOfMillis
        self.kafkaStallTimeoutMs = kafkaStallTimeoutMs
    }
}
