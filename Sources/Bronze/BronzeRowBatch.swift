import Parquet

/// Bronze rows of one table partition (one ingestion date), buffered column by column so that appending
/// a row copies its bytes into a few growing arrays and allocates nothing per row.
///
/// Timestamps are microseconds since the epoch; the table style decides before appending whether they are
/// truncated to milliseconds.
public struct BronzeRowBatch {
    public private(set) var ingestionDate: Int32
    public private(set) var rawBytes = ByteArrayValues()
    public private(set) var topics = ByteArrayValues()
    public private(set) var partitions: [Int32] = []
    /// Non-null offsets, with `offsetPresent` marking which rows have one.
    public private(set) var offsets: [Int64] = []
    public private(set) var offsetPresent: [Bool] = []
    public private(set) var kafkaTimestamps: [Int64] = []
    public private(set) var ingestionTimestamps: [Int64] = []
    /// Bytes of the row values, before encoding and compression (for sizing files).
    public private(set) var estimatedBytes = 0

    public init(ingestionDate: Int32) {
        self.ingestionDate = ingestionDate
    }

    public var count: Int { partitions.count }
    public var isEmpty: Bool { partitions.isEmpty }
    public var hasNullOffsets: Bool { offsets.count != partitions.count }

    public mutating func append(rawBytes value: UnsafeRawBufferPointer, topic: String, partition: Int32, offset: Int64?,
                                kafkaTimestampMicros: Int64, ingestionTimestampMicros: Int64) {
        rawBytes.append(contentsOf: value)
        var topic = topic
        topic.withUTF8 { topics.append(contentsOf: $0) }
        partitions.append(partition)
        if let offset {
            offsets.append(offset)
            offsetPresent.append(true)
        } else {
            offsetPresent.append(false)
        }
        kafkaTimestamps.append(kafkaTimestampMicros)
        ingestionTimestamps.append(ingestionTimestampMicros)
        estimatedBytes += value.count + topic.utf8.count + 32
    }

    public mutating func removeAll() {
        rawBytes.removeAll()
        topics.removeAll()
        partitions.removeAll(keepingCapacity: true)
        offsets.removeAll(keepingCapacity: true)
        offsetPresent.removeAll(keepingCapacity: true)
        kafkaTimestamps.removeAll(keepingCapacity: true)
        ingestionTimestamps.removeAll(keepingCapacity: true)
        estimatedBytes = 0
    }

    /// Empties the batch (keeping its buffers) for the rows of another day.
    mutating func reuse(for day: Int32) {
        removeAll()
        ingestionDate = day
    }

    /// The batch as Parquet columns, in the order of `names` (the table's column order).
    func columns(order names: [String]) -> [ColumnData] {
        names.map { name in
            switch name {
            case "raw_bytes": return ColumnData(.byteArray(rawBytes))
            case "topic": return ColumnData(.byteArray(topics))
            case "partition": return ColumnData(.int32(partitions))
            case "offset": return ColumnData(.int64(offsets), validity: hasNullOffsets ? offsetPresent : nil)
            case "kafka_timestamp": return ColumnData(.int64(kafkaTimestamps))
            case "ingestion_timestamp": return ColumnData(.int64(ingestionTimestamps))
            default: return ColumnData(.int32([Int32](repeating: ingestionDate, count: count)))
            }
        }
    }
}
