import Parquet

/// One row group of a data file as `ScanReader.readRowGroups` hands it over: the requested fields in the
/// Iceberg representation (see `ScanReader`), rows that delete files remove already left out.
public struct ScanBatch: Sendable {
    /// The data file and the row group's index in it, for messages.
    public var location: String
    public var rowGroup: Int
    /// Rows in the batch (after deletes), and rows of the row group that delete files removed.
    public var rowCount: Int
    public var deletedRows: Int
    /// One entry per requested field, in the order asked for.
    public var columns: [ScanColumn]
    /// The file position (0-based, across the file's row groups) of the row group's first row, and which of
    /// its rows delete files removed (nil: none): kept so a caller can name a row by position (a position
    /// delete) without the reader building a position array that most scans never use.
    public var firstRowPosition: Int64 = 0
    public var removedRows: [Bool]? = nil

    /// The file position of each row in the batch, in batch order (deleted rows skipped).
    public func rowPositions() -> [Int64] {
        guard let removedRows else { return (0..<Int64(rowCount)).map { firstRowPosition + $0 } }
        var out: [Int64] = []
        out.reserveCapacity(rowCount)
        for (i, removed) in removedRows.enumerated() where !removed { out.append(firstRowPosition + Int64(i)) }
        return out
    }
}

/// A field's values in one batch.
public enum ScanColumn: Sendable {
    case values(ColumnData)
    /// Every row holds this value (nil: every row is null): a field the file lacks (its identity partition
    /// value, else null), or a field asked for as `uniform` whose row group statistics give one value and
    /// no nulls, which then costs no decoding.
    case constant(IcebergValue?)
}
