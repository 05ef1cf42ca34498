/// A side held in memory: rows given by the caller (tests, small inputs, adapters that read everything
/// anyway). Rows are handed to the engine in chunks of `chunkSize`, in the order given.
public final class RowsSource: ParitySource {
    public struct Row: Sendable {
        public var key: PartitionKey
        public var offset: Int64
        public var timestampMicros: Int64
        public var ingestionDay: Int32?
        public var payloadHash: UInt64

        public init(key: PartitionKey, offset: Int64, timestampMicros: Int64, ingestionDay: Int32? = nil, payloadHash: UInt64 = 1) {
            self.key = key
            self.offset = offset
            self.timestampMicros = timestampMicros
            self.ingestionDay = ingestionDay
            self.payloadHash = payloadHash
        }
    }

    public let description: SideDescription
    public var rows: [Row]
    public var retentionFloors: [PartitionKey: Int64]
    public var knownPartitions: Set<PartitionKey>
    public var health: TableHealth?
    public var chunkSize: Int

    public init(_ description: SideDescription, rows: [Row], retentionFloors: [PartitionKey: Int64] = [:],
                knownPartitions: Set<PartitionKey> = [], chunkSize: Int = 1000) {
        self.description = description
        self.rows = rows
        self.retentionFloors = retentionFloors
        self.knownPartitions = knownPartitions
        self.chunkSize = max(1, chunkSize)
    }

    public func scan(scope: ParityScope, partitions: Set<PartitionKey>?, payload: Bool,
                     into sink: (inout ParityChunk) throws -> Void) async throws {
        var chunk: ParityChunk?
        for row in rows {
            if let partitions, !partitions.contains(row.key) { continue }
            if let current = chunk, current.key != row.key || current.count >= chunkSize {
                var full = current
                try sink(&full)
                chunk = nil
            }
            if chunk == nil {
                chunk = ParityChunk(key: row.key, ingestionDays: row.ingestionDay == nil ? nil : [], payloadHashes: payload ? [] : nil)
            }
            chunk!.offsets.append(row.offset)
            chunk!.timestampsMicros.append(row.timestampMicros)
            if let day = row.ingestionDay { chunk!.ingestionDays?.append(day) }
            if payload { chunk!.payloadHashes!.append(row.payloadHash) }
        }
        if var last = chunk { try sink(&last) }
    }
}
