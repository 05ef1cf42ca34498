import Bronze
import K2Core
import Parity
import Replay

/// What a repair found and did, per partition (`--json`: this object, keys in snake_case).
public struct TableRepairResult: Encodable {
    public struct PartitionResult: Encodable, Equatable {
        public var topic: String
        public var partition: Int32
        /// What the report lists as missing on the repaired side.
        public var reportedMissing: [OffsetRange]
        /// Of those, what the table holds by now (another writer, or an earlier run of this repair): not written.
        public var alreadyPresent: [OffsetRange]
        /// Of those, what Kafka's retention removed: cannot be written from Kafka (restore it from a capture log).
        public var lostToRetention: [OffsetRange]
        /// What the repair writes (or, in a dry run, would write).
        public var toWrite: [OffsetRange]

        enum CodingKeys: String, CodingKey {
            case topic, partition
            case reportedMissing = "reported_missing"
            case alreadyPresent = "already_present"
            case lostToRetention = "lost_to_retention"
            case toWrite = "to_write"
        }
    }

    public var table: String
    public var side: String
    public var dryRun: Bool
    public var partitions: [PartitionResult]
    /// The replay that wrote `toWrite` (nil when there was nothing to write, or in a dry run).
    public var replay: ReplayReport?
    /// The removal of the duplicates the report lists (nil when it lists none).
    public var duplicates: BronzeDuplicateRemovalResult?
    /// Extra rows removed (or, in a dry run, to remove).
    public var duplicateRowsRemoved: Int64 { duplicates?.totalRowsRemoved ?? 0 }

    public var offsetsToWrite: Int64 { partitions.reduce(0) { $0 + OffsetRanges.offsetCount($1.toWrite) } }
    public var offsetsAlreadyPresent: Int64 { partitions.reduce(0) { $0 + OffsetRanges.offsetCount($1.alreadyPresent) } }
    public var offsetsLost: Int64 { partitions.reduce(0) { $0 + OffsetRanges.offsetCount($1.lostToRetention) } }
    /// Rows the replay committed.
    public var rowsWritten: Int { replay?.messages ?? 0 }

    enum CodingKeys: String, CodingKey {
        case table, side, partitions, replay
        case dryRun = "dry_run"
        case offsetsToWrite = "offsets_to_write"
        case offsetsAlreadyPresent = "offsets_already_present"
        case offsetsLost = "offsets_lost_to_retention"
        case rowsWritten = "rows_written"
        case duplicateRowsRemoved = "duplicate_rows_removed"
        case duplicatesSnapshotId = "duplicates_snapshot_id"
        case duplicatesDeleteFiles = "duplicates_delete_files"
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(table, forKey: .table)
        try c.encode(side, forKey: .side)
        try c.encode(dryRun, forKey: .dryRun)
        try c.encode(partitions, forKey: .partitions)
        try c.encode(offsetsToWrite, forKey: .offsetsToWrite)
        try c.encode(offsetsAlreadyPresent, forKey: .offsetsAlreadyPresent)
        try c.encode(offsetsLost, forKey: .offsetsLost)
        try c.encode(rowsWritten, forKey: .rowsWritten)
        try c.encode(duplicateRowsRemoved, forKey: .duplicateRowsRemoved)
        try c.encode(duplicates?.snapshotId, forKey: .duplicatesSnapshotId)
        try c.encode(duplicates?.deleteFiles ?? [], forKey: .duplicatesDeleteFiles)
        try c.encode(replay, forKey: .replay)
    }
}
