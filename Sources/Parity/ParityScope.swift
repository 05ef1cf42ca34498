import K2Core

/// What part of the data a check covers. Sources use it to prune (files, row groups, fetch ranges);
/// the engine applies it again row by row, so a source that prunes coarsely is still exact.
public struct ParityScope: Sendable, Equatable {
    /// Inclusive lower bound on the Kafka timestamp, microseconds since the epoch.
    public var sinceMicros: Int64?
    /// Exclusive upper bound on the Kafka timestamp, microseconds since the epoch.
    public var untilMicros: Int64?
    /// Kafka partition numbers to check; nil checks all.
    public var partitions: Set<Int32>?
    /// Offsets to check per partition (`--offsets`); nil checks all.
    public var offsets: PartitionOffsetRanges?

    public init(sinceMicros: Int64? = nil, untilMicros: Int64? = nil, partitions: Set<Int32>? = nil,
                offsets: PartitionOffsetRanges? = nil) {
        self.sinceMicros = sinceMicros
        self.untilMicros = untilMicros
        self.partitions = partitions
        self.offsets = offsets
    }

    public static let everything = ParityScope()

    public var filtersTime: Bool { sinceMicros != nil || untilMicros != nil }

    @inline(__always)
    public func contains(timestampMicros: Int64) -> Bool {
        if let sinceMicros, timestampMicros < sinceMicros { return false }
        if let untilMicros, timestampMicros >= untilMicros { return false }
        return true
    }

    public func contains(partition: Int32) -> Bool {
        (partitions?.contains(partition) ?? true) && (offsets.map { $0.spans(of: partition) != nil } ?? true)
    }

    /// Whether rows are filtered by more than their partition (time or offset bounds).
    public var filtersRows: Bool { filtersTime || offsets != nil }

    /// Whether the row at `offset` of `partition` with this timestamp is in scope.
    @inline(__always)
    public func contains(partition: Int32, offset: Int64, timestampMicros: Int64) -> Bool {
        contains(timestampMicros: timestampMicros) && (offsets?.contains(partition: partition, offset: offset) ?? true)
    }
}
