import Iceberg

/// Which Kafka coordinates of a Bronze table a duplicate removal looks at: some partitions, each whole or
/// limited to offset ranges (the duplicate ranges a `k2-verify` report lists). Rows outside are neither
/// read into memory nor touched; files outside are pruned by their partition and offset bounds.
public struct BronzeDuplicateScope: Sendable, Equatable {
    /// Kafka partition number → inclusive offset ranges; an empty list means every offset of the partition.
    public var partitions: [Int32: [ClosedRange<Int64>]]

    public init(partitions: [Int32: [ClosedRange<Int64>]]) {
        self.partitions = partitions
    }

    /// Every offset of each partition in `numbers`.
    public init(wholePartitions numbers: some Sequence<Int32>) {
        partitions = Dictionary(uniqueKeysWithValues: Set(numbers).map { ($0, []) })
    }

    public func contains(partition: Int32, offset: Int64) -> Bool {
        guard let ranges = partitions[partition] else { return false }
        return ranges.isEmpty || ranges.contains { $0.contains(offset) }
    }

    /// The pruning ranges a scan takes: the partitions' span and, when every partition is limited, the
    /// offsets' span (a file outside both cannot hold a row in scope).
    func filters(partitionColumn: String, offsetColumn: String) -> [ColumnRange] {
        guard let low = partitions.keys.min(), let high = partitions.keys.max() else { return [] }
        var filters = [ColumnRange(column: partitionColumn, lower: .int(low), upper: .int(high))]
        let ranges = partitions.values
        if !ranges.contains(where: \.isEmpty) {
            let all = ranges.joined()
            if let first = all.map(\.lowerBound).min(), let last = all.map(\.upperBound).max() {
                filters.append(ColumnRange(column: offsetColumn, lower: .long(first), upper: .long(last)))
            }
        }
        return filters
    }
}
