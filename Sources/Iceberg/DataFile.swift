/// A data file as a manifest records it: location, partition tuple, counts and column metrics.
/// Bounds are single-value serialized (table spec, Appendix D), keyed by field id.
public struct DataFile: Sendable, Equatable {
    public enum Content: Int, Sendable { case data = 0, positionDeletes = 1, equalityDeletes = 2 }

    public var content: Content
    public var filePath: String
    /// `PARQUET`, `AVRO` or `ORC`.
    public var fileFormat: String
    public var specId: Int
    /// One value per partition field of the spec (nil for null).
    public var partition: [IcebergValue?]
    public var recordCount: Int64
    public var fileSizeInBytes: Int64
    public var columnSizes: [Int: Int64]
    public var valueCounts: [Int: Int64]
    public var nullValueCounts: [Int: Int64]
    public var nanValueCounts: [Int: Int64]
    public var lowerBounds: [Int: [UInt8]]
    public var upperBounds: [Int: [UInt8]]
    public var splitOffsets: [Int64]?
    /// Equality delete files: the field ids whose values identify a deleted row.
    public var equalityIds: [Int]?
    public var sortOrderId: Int?
    /// Position delete files and deletion vectors (v3): the one data file they apply to, when recorded.
    public var referencedDataFile: String?
    /// Deletion vectors (v3): where the vector's blob starts in its Puffin file; nil for every other file.
    public var contentOffset: Int64?

    public init(filePath: String, fileFormat: String = "PARQUET", specId: Int = 0, partition: [IcebergValue?] = [],
                recordCount: Int64, fileSizeInBytes: Int64, columnSizes: [Int: Int64] = [:], valueCounts: [Int: Int64] = [:],
                nullValueCounts: [Int: Int64] = [:], nanValueCounts: [Int: Int64] = [:], lowerBounds: [Int: [UInt8]] = [:],
                upperBounds: [Int: [UInt8]] = [:], splitOffsets: [Int64]? = nil, sortOrderId: Int? = nil,
                content: Content = .data, equalityIds: [Int]? = nil, referencedDataFile: String? = nil, contentOffset: Int64? = nil) {
        self.content = content
        self.filePath = filePath
        self.fileFormat = fileFormat
        self.specId = specId
        self.partition = partition
        self.recordCount = recordCount
        self.fileSizeInBytes = fileSizeInBytes
        self.columnSizes = columnSizes
        self.valueCounts = valueCounts
        self.nullValueCounts = nullValueCounts
        self.nanValueCounts = nanValueCounts
        self.lowerBounds = lowerBounds
        self.upperBounds = upperBounds
        self.splitOffsets = splitOffsets
        self.sortOrderId = sortOrderId
        self.equalityIds = equalityIds
        self.referencedDataFile = referencedDataFile
        self.contentOffset = contentOffset
    }
}

/// A manifest entry's status.
public enum ManifestEntryStatus: Int32, Sendable { case existing = 0, added = 1, deleted = 2 }

/// One row of a manifest: a data file with its status and the snapshot and sequence numbers that added it.
public struct ManifestEntry: Sendable, Equatable {
    public var status: ManifestEntryStatus
    public var snapshotId: Int64?
    /// Data sequence number; nil in an ADDED entry means "inherit from the manifest".
    public var sequenceNumber: Int64?
    public var fileSequenceNumber: Int64?
    public var dataFile: DataFile

    public init(status: ManifestEntryStatus, snapshotId: Int64?, sequenceNumber: Int64?, fileSequenceNumber: Int64?, dataFile: DataFile) {
        self.status = status
        self.snapshotId = snapshotId
        self.sequenceNumber = sequenceNumber
        self.fileSequenceNumber = fileSequenceNumber
        self.dataFile = dataFile
    }
}

/// A field summary of one partition field over a manifest's files (for pruning manifests).
public struct PartitionFieldSummary: Sendable, Equatable {
    public var containsNull: Bool
    public var containsNaN: Bool?
    public var lowerBound: [UInt8]?
    public var upperBound: [UInt8]?
}

/// A manifest list row: one manifest of a snapshot.
public struct ManifestFile: Sendable, Equatable {
    public enum Content: Int32, Sendable { case data = 0, deletes = 1 }

    public var manifestPath: String
    public var manifestLength: Int64
    public var partitionSpecId: Int
    public var content: Content
    public var sequenceNumber: Int64
    public var minSequenceNumber: Int64
    public var addedSnapshotId: Int64
    public var addedFilesCount: Int32
    public var existingFilesCount: Int32
    public var deletedFilesCount: Int32
    public var addedRowsCount: Int64
    public var existingRowsCount: Int64
    public var deletedRowsCount: Int64
    public var partitions: [PartitionFieldSummary]?

    public init(manifestPath: String, manifestLength: Int64, partitionSpecId: Int, content: Content = .data,
                sequenceNumber: Int64, minSequenceNumber: Int64, addedSnapshotId: Int64, addedFilesCount: Int32,
                existingFilesCount: Int32, deletedFilesCount: Int32, addedRowsCount: Int64, existingRowsCount: Int64,
                deletedRowsCount: Int64, partitions: [PartitionFieldSummary]?) {
        self.manifestPath = manifestPath
        self.manifestLength = manifestLength
        self.partitionSpecId = partitionSpecId
        self.content = content
        self.sequenceNumber = sequenceNumber
        self.minSequenceNumber = minSequenceNumber
        self.addedSnapshotId = addedSnapshotId
        self.addedFilesCount = addedFilesCount
        self.existingFilesCount = existingFilesCount
        self.deletedFilesCount = deletedFilesCount
        self.addedRowsCount = addedRowsCount
        self.existingRowsCount = existingRowsCount
        self.deletedRowsCount = deletedRowsCount
        self.partitions = partitions
    }
}
