import K2Core
import Foundation

/// The result of a parity check; its JSON form is documented in docs/verify-report.md.
public struct ParityReport: Codable, Sendable {
    /// True when every partition agrees on every side and no table health problem was found.
    public var parity: Bool
    public var generatedAt: String
    public var payloadCompared: Bool
    public var scope: ScopeDescription
    public var sides: Sides
    public var summary: Summary
    /// Mismatched partitions first, then by topic and partition.
    public var partitions: [PartitionReport]
    /// Rows per `ingestion_date` (`YYYY-MM-DD`) and per hour of Kafka timestamp (`YYYY-MM-DDTHH:00Z`), per side.
    public var countsByIngestionDate: SideValues<[String: Int64]>
    public var countsByHour: SideValues<[String: Int64]>
    /// Rows per side over time at a bucket width suited to the span (what the HTML chart draws).
    public var countsOverTime: TimeSeries
    public var health: SideValues<TableHealth>

    enum CodingKeys: String, CodingKey {
        case parity, scope, sides, summary, partitions, health
        case generatedAt = "generated_at"
        case payloadCompared = "payload_compared"
        case countsByIngestionDate = "counts_by_ingestion_date"
        case countsByHour = "counts_by_hour"
        case countsOverTime = "counts_over_time"
    }

    public struct ScopeDescription: Codable, Sendable {
        @NullWhenAbsent public var since: String?
        @NullWhenAbsent public var until: String?
        @NullWhenAbsent public var partitions: [Int32]?
        /// `--offsets`, in its canonical form.
        @NullWhenAbsent public var offsets: String?
    }

    public struct Sides: Codable, Sendable {
        public var left: SideDescription
        public var right: SideDescription
        @NullWhenAbsent public var truth: SideDescription?
    }

    public struct Summary: Codable, Sendable {
        public var partitions: Int
        public var mismatchedPartitions: Int
        public var rows: SideValues<Int64>
        public var missingInLeftOffsets: Int64
        public var missingInRightOffsets: Int64
        public var duplicateRowsLeft: Int64
        public var duplicateRowsRight: Int64
        public var payloadMismatchOffsets: Int64
        public var retentionDroppedOffsets: Int64
        /// One sentence per defect found (partition and offsets, or table and file), for people and logs.
        public var problems: [String]

        enum CodingKeys: String, CodingKey {
            case partitions, rows, problems
            case mismatchedPartitions = "mismatched_partitions"
            case missingInLeftOffsets = "missing_in_left_offsets"
            case missingInRightOffsets = "missing_in_right_offsets"
            case duplicateRowsLeft = "duplicate_rows_left"
            case duplicateRowsRight = "duplicate_rows_right"
            case payloadMismatchOffsets = "payload_mismatch_offsets"
            case retentionDroppedOffsets = "retention_dropped_offsets"
        }
    }

    /// JSON with sorted keys, so two runs diff cleanly.
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// A value per side; `truth` only when a truth side was given.
public struct SideValues<Value: Codable & Sendable>: Codable, Sendable {
    @NullWhenAbsent public var left: Value?
    @NullWhenAbsent public var right: Value?
    @NullWhenAbsent public var truth: Value?
    public init(left: Value? = nil, right: Value? = nil, truth: Value? = nil) {
        self.left = left
        self.right = right
        self.truth = truth
    }
}

/// What one side holds for one partition.
public struct PartitionSideCounts: Codable, Sendable, Equatable {
    public var rows: Int64
    public var distinctOffsets: Int64
    @NullWhenAbsent public var minOffset: Int64?
    @NullWhenAbsent public var maxOffset: Int64?
    @NullWhenAbsent public var minTimestamp: String?
    @NullWhenAbsent public var maxTimestamp: String?
    /// The first offset the side still holds (Kafka retention); offsets below it are not expected.
    @NullWhenAbsent public var retentionFloor: Int64?
    enum CodingKeys: String, CodingKey {
        case rows
        case distinctOffsets = "distinct_offsets"
        case minOffset = "min_offset"
        case maxOffset = "max_offset"
        case minTimestamp = "min_timestamp"
        case maxTimestamp = "max_timestamp"
        case retentionFloor = "retention_floor"
    }
}

/// Offsets another side holds below a side's retention floor: dropped by retention, not missing.
public struct RetentionNote: Codable, Sendable, Equatable {
    public var side: String
    public var floor: Int64
    public var droppedOffsets: [OffsetRange]
    public var note: String

    enum CodingKeys: String, CodingKey {
        case side, floor, note
        case droppedOffsets = "dropped_offsets"
    }
}

/// Rows of each side in one hour of Kafka timestamp for one partition, with the offsets that hour spans
/// (union of the sides), which places offset ranges in time on the HTML timeline.
public struct HourRows: Codable, Sendable, Equatable {
    public var hour: String
    public var left: Int64
    public var right: Int64
    @NullWhenAbsent public var truth: Int64?
    public var minOffset: Int64
    public var maxOffset: Int64

    enum CodingKeys: String, CodingKey {
        case hour, left, right, truth
        case minOffset = "min_offset"
        case maxOffset = "max_offset"
    }
}

public struct PartitionReport: Codable, Sendable {
    public var topic: String
    public var partition: Int32
    public var parity: Bool
    public var left: PartitionSideCounts
    public var right: PartitionSideCounts
    @NullWhenAbsent public var truth: PartitionSideCounts?
    /// Offsets the right side holds and the left does not (and the reverse), as `[first, last]` ranges.
    public var missingInLeft: [OffsetRange]
    public var missingInRight: [OffsetRange]
    /// With a truth side: offsets the truth holds that each table lacks, and offsets the tables hold above
    /// the truth's retention floor that the truth lacks.
    @NullWhenAbsent public var missingInLeftVsTruth: [OffsetRange]?
    @NullWhenAbsent public var missingInRightVsTruth: [OffsetRange]?
    @NullWhenAbsent public var missingInTruth: [OffsetRange]?
    public var duplicatesLeft: [DuplicateRange]
    public var duplicatesRight: [DuplicateRange]
    @NullWhenAbsent public var duplicatesTruth: [DuplicateRange]?
    /// Offsets whose payload hashes differ between left and right (only with payload comparison).
    @NullWhenAbsent public var payloadMismatches: [OffsetRange]?
    @NullWhenAbsent public var payloadMismatchesLeftVsTruth: [OffsetRange]?
    @NullWhenAbsent public var payloadMismatchesRightVsTruth: [OffsetRange]?
    public var retention: [RetentionNote]
    public var rowsByHour: [HourRows]
    /// Every missing range of every side (`missing_in_*` and the truth comparisons, each offset once per
    /// side) with the offsets and times that side holds just before and after it.
    public var gapEdges: [GapEdges]

    enum CodingKeys: String, CodingKey {
        case topic, partition, parity, left, right, truth, retention
        case missingInLeft = "missing_in_left"
        case missingInRight = "missing_in_right"
        case missingInLeftVsTruth = "missing_in_left_vs_truth"
        case missingInRightVsTruth = "missing_in_right_vs_truth"
        case missingInTruth = "missing_in_truth"
        case duplicatesLeft = "duplicates_left"
        case duplicatesRight = "duplicates_right"
        case duplicatesTruth = "duplicates_truth"
        case payloadMismatches = "payload_mismatches"
        case payloadMismatchesLeftVsTruth = "payload_mismatches_left_vs_truth"
        case payloadMismatchesRightVsTruth = "payload_mismatches_right_vs_truth"
        case rowsByHour = "rows_by_hour"
        case gapEdges = "gap_edges"
    }

    public var key: PartitionKey { PartitionKey(topic: topic, partition: partition) }

    /// Offsets the left table lacks, against the right side or the truth, each counted once.
    public var allMissingInLeft: [OffsetRange] { OffsetRanges.union(missingInLeft, missingInLeftVsTruth ?? []) }
    public var allMissingInRight: [OffsetRange] { OffsetRanges.union(missingInRight, missingInRightVsTruth ?? []) }
    /// Offsets some side no longer holds by retention, each counted once however many sides dropped it.
    public var allRetentionDropped: [OffsetRange] { retention.reduce([]) { OffsetRanges.union($0, $1.droppedOffsets) } }
}
