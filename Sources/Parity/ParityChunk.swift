/// A batch of rows of one topic partition, column by column, as a source reads them (a Parquet page or
/// row group, a Kafka fetch). Rows inside a chunk are usually in offset order, but nothing relies on it.
///
/// Sources reuse the arrays between chunks; the engine never keeps a chunk after the callback returns.
public struct ParityChunk: Sendable {
    public var key: PartitionKey
    public var offsets: [Int64]
    /// Kafka record timestamps in microseconds since the epoch (millisecond sources multiply by 1000).
    public var timestampsMicros: [Int64]
    /// `ingestion_date` as days since the epoch; nil for sources without it (Kafka, segment logs).
    public var ingestionDays: [Int32]?
    /// One hash per row of the payload (`raw_bytes` / the Kafka value, see `PayloadHash`); only when asked.
    public var payloadHashes: [UInt64]?

    public init(key: PartitionKey, offsets: [Int64] = [], timestampsMicros: [Int64] = [],
                ingestionDays: [Int32]? = nil, payloadHashes: [UInt64]? = nil) {
        self.key = key
        self.offsets = offsets
        self.timestampsMicros = timestampsMicros
        self.ingestionDays = ingestionDays
        self.payloadHashes = payloadHashes
    }

    public var count: Int { offsets.count }

    /// Empties the columns but keeps their storage, for the next chunk.
    public mutating func removeAll(keepingCapacity: Bool = true) {
        offsets.removeAll(keepingCapacity: keepingCapacity)
        timestampsMicros.removeAll(keepingCapacity: keepingCapacity)
        ingestionDays?.removeAll(keepingCapacity: keepingCapacity)
        payloadHashes?.removeAll(keepingCapacity: keepingCapacity)
    }
}
