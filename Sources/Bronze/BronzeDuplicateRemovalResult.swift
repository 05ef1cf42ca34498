/// What a duplicate removal found and did. A dry run fills everything but `snapshotId` and
/// `deleteFiles`, describing the snapshot a real run would commit.
public struct BronzeDuplicateRemovalResult: Sendable, Equatable {
    /// One data file that loses rows: its path, data sequence number and how many of its rows go.
    public struct AffectedFile: Sendable, Equatable {
        public var dataFile: String
        public var sequenceNumber: Int64
        public var rowsRemoved: Int64
    }

    /// The snapshot the duplicates were found in (nil for a table without snapshots).
    public var scannedSnapshotId: Int64?
    /// The `delete` snapshot committed; nil when nothing was committed (no duplicates, or a dry run).
    public var snapshotId: Int64?
    public var dryRun: Bool
    /// Rows read within the scope (deleted rows not counted), and rows whose partition or offset is null
    /// (never duplicates: they cannot be placed).
    public var rowsScanned: Int64
    public var nullKeyRows: Int64
    /// Rows removed (or, in a dry run, to remove) per Kafka partition.
    public var rowsRemoved: [Int32: Int64]
    /// Per Kafka partition, the offsets held more than once, as inclusive runs of consecutive offsets.
    public var duplicateOffsets: [Int32: [ClosedRange<Int64>]]
    /// The data files that lose rows, by path.
    public var affectedFiles: [AffectedFile]
    /// The position delete files committed (one per affected data file); empty in a dry run.
    public var deleteFiles: [String]

    public var totalRowsRemoved: Int64 { rowsRemoved.values.reduce(0, +) }
}
