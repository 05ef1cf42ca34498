/// Health of an Iceberg side, read from its metadata and compared with the rows the check read.
public struct TableHealth: Codable, Sendable, Equatable {
    public var table: String
    @NullWhenAbsent public var snapshotId: Int64?
    public var snapshots: Int
    public var dataFiles: Int
    /// Data files listed as ADDED by more than one snapshot: the same rows committed twice (the duplicate
    /// commit failure known from Kafka Connect's Iceberg sink).
    public var duplicateAddedFiles: [DuplicateAddedFile]
    /// `total-records` in the checked snapshot's summary, and the rows the check read from the table.
    @NullWhenAbsent public var summaryTotalRecords: Int64?
    @NullWhenAbsent public var rowsRead: Int64?
    /// Whether the two agree; nil when they cannot be compared (a time or partition scope was applied).
    @NullWhenAbsent public var totalRecordsMatch: Bool?
    /// Live position and equality delete files in the snapshot, and the rows they removed from what the
    /// check read (nil when the check read no rows). Deleted rows are not in `rowsRead`: the check sees
    /// the table as Spark and pyiceberg read it.
    public var deleteFiles: Int
    @NullWhenAbsent public var rowsDeleted: Int64?
    /// Engine commit markers from the snapshot summaries (latest value of each key).
    public var commitMarkers: [CommitMarker]
    /// One sentence per problem found; empty when healthy.
    public var problems: [String]

    public init(table: String, snapshotId: Int64?, snapshots: Int, dataFiles: Int,
                duplicateAddedFiles: [DuplicateAddedFile], summaryTotalRecords: Int64?, rowsRead: Int64?,
                totalRecordsMatch: Bool?, deleteFiles: Int = 0, rowsDeleted: Int64? = nil,
                commitMarkers: [CommitMarker], problems: [String]) {
        self.table = table
        self.snapshotId = snapshotId
        self.snapshots = snapshots
        self.dataFiles = dataFiles
        self.duplicateAddedFiles = duplicateAddedFiles
        self.summaryTotalRecords = summaryTotalRecords
        self.rowsRead = rowsRead
        self.totalRecordsMatch = totalRecordsMatch
        self.deleteFiles = deleteFiles
        self.rowsDeleted = rowsDeleted
        self.commitMarkers = commitMarkers
        self.problems = problems
    }

    enum CodingKeys: String, CodingKey {
        case table, snapshots, problems
        case snapshotId = "snapshot_id"
        case dataFiles = "data_files"
        case duplicateAddedFiles = "duplicate_added_files"
        case summaryTotalRecords = "summary_total_records"
        case rowsRead = "rows_read"
        case totalRecordsMatch = "total_records_match"
        case deleteFiles = "delete_files"
        case rowsDeleted = "rows_deleted"
        case commitMarkers = "commit_markers"
    }
}

public struct DuplicateAddedFile: Codable, Sendable, Equatable {
    public var path: String
    public var snapshotIds: [Int64]
    @NullWhenAbsent public var records: Int64?
    public init(path: String, snapshotIds: [Int64], records: Int64?) {
        self.path = path
        self.snapshotIds = snapshotIds
        self.records = records
    }

    enum CodingKeys: String, CodingKey {
        case path, records
        case snapshotIds = "snapshot_ids"
    }
}

public struct CommitMarker: Codable, Sendable, Equatable {
    public var key: String
    public var value: String
    public var snapshotId: Int64

    public init(key: String, value: String, snapshotId: Int64) {
        self.key = key
        self.value = value
        self.snapshotId = snapshotId
    }

    enum CodingKeys: String, CodingKey {
        case key, value
        case snapshotId = "snapshot_id"
    }
}
