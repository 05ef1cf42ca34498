import Iceberg
import Parity

/// Table health for the report: what `TableInspection` finds in a snapshot's metadata, held against the
/// rows the check read, each problem as one sentence.
enum TableHealthAssessment {
    static func emptyTable(_ table: Table) -> TableHealth {
        TableHealth(table: table.identifier.description, snapshotId: nil, snapshots: table.metadata.snapshots.count, dataFiles: 0,
                    duplicateAddedFiles: [], summaryTotalRecords: nil, rowsRead: 0, totalRecordsMatch: nil,
                    commitMarkers: [], problems: [])
    }

    /// `rows` are the rows of the whole snapshot (nil when a scope limited what was read): placed, with a
    /// null key, and removed by delete files.
    static func assess(_ table: Table, snapshot: Snapshot, files: SnapshotFiles,
                       rows: (read: Int64, nullKeys: Int64, deleted: Int64)?, nullKeyRows: Int64) -> TableHealth {
        var problems: [String] = []
        let duplicates = files.addedMoreThanOnce.map {
            DuplicateAddedFile(path: $0.path, snapshotIds: $0.addedBySnapshots, records: $0.recordCount)
        }
        for duplicate in duplicates {
            problems.append("data file \(duplicate.path) added by \(duplicate.snapshotIds.count) snapshots (\(duplicate.snapshotIds.map(String.init).joined(separator: ", "))): its \(duplicate.records.map(String.init) ?? "?") rows are committed more than once")
        }
        for repeated in files.liveMoreThanOnce {
            problems.append("data file \(repeated.path) is live \(repeated.times) times in snapshot \(snapshot.snapshotId)")
        }
        var match: Bool?
        // total-records counts rows of data files, deleted or not.
        if let rows, let total = files.summaryTotalRecords {
            let held = rows.read + rows.nullKeys + rows.deleted
            match = total == held
            if match == false {
                problems.append("snapshot \(snapshot.snapshotId) summary says total-records \(total), the data files hold \(held) rows")
            }
        }
        if nullKeyRows > 0 {
            problems.append("\(nullKeyRows) row(s) have a null topic, partition, offset or kafka_timestamp and cannot be placed")
        }
        let markers = TableInspection(table: table).summaryMarkers(of: snapshot, keys: TableInspection.engineMarkerKeys).map {
            CommitMarker(key: $0.key, value: $0.value, snapshotId: $0.snapshotId)
        }
        return TableHealth(table: table.identifier.description, snapshotId: snapshot.snapshotId, snapshots: table.metadata.snapshots.count,
                           dataFiles: files.liveDataFiles, duplicateAddedFiles: duplicates, summaryTotalRecords: files.summaryTotalRecords,
                           rowsRead: rows.map { $0.read + $0.nullKeys }, totalRecordsMatch: match,
                           deleteFiles: files.liveDeleteFiles, rowsDeleted: rows?.deleted,
                           commitMarkers: markers, problems: problems)
    }
}
