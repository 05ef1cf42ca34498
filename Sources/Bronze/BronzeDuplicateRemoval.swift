import Foundation
import Iceberg
import K2Core
import Parquet

/// Removes duplicate rows from a Bronze table (either style): rows holding a Kafka (`partition`, `offset`)
/// that another row of the table already holds, as a backfill rerun without its checkpoint leaves them.
///
/// The current snapshot's `partition` and `offset` columns are scanned with each row's data file and
/// position (rows already deleted are not seen); of every offset held more than once exactly one row is
/// kept and the others are removed with position delete files (`PositionDeleteWriter`, one per affected
/// data file, its `file_path` bounds naming that file so readers prune it) committed in one `delete`
/// snapshot by `FastAppend`. Data files, other rows and table properties are left as they are, so a
/// rerun finds nothing and commits nothing.
///
/// The row kept is the one in the data file with the lowest data sequence number, then the lowest file
/// path, then the lowest position. The lowest sequence number is the first commit of the offset, the
/// copy every reader already saw before the rerun added its copy; the rule depends only on the table,
/// so two removals (a retry, a concurrent run) choose the same row and together never remove every copy.
///
/// Memory: 16 bytes per row in scope (all rows without a scope); a scope from a `k2-verify` report's
/// duplicate ranges keeps it to those offsets, and files outside it are pruned by their bounds.
///
/// Concurrency and crashes: the delete files are written first and referenced only by the snapshot's
/// commit, so a process killed before the commit leaves orphan files and an unchanged table. A
/// concurrent commit is retried like `FastAppend` retries it when it only appended (new rows cannot
/// change the rows chosen: they come later in the rule); after any other operation (a delete, an
/// overwrite, a compaction) the removal's delete files are removed and the duplicates found again.
public struct BronzeDuplicateRemoval: Sendable {
    public let catalog: any Catalog
    public let table: TableIdentifier
    /// The partitions and offsets to look at; nil: the whole table.
    public var scope: BronzeDuplicateScope?
    /// Find and report, write and commit nothing.
    public var dryRun: Bool
    /// Attempts at committing (`FastAppend`'s conflict retries) and at planning again after a concurrent
    /// change to the rows.
    public var maxAttempts: Int

    /// Snapshot-summary keys of the `delete` snapshot, beside Iceberg's own (`added-position-deletes`...).
    public static let rowsRemovedKey = "k2.dedupe.rows-removed"
    public static let partitionsKey = "k2.dedupe.partitions"
    public static let scannedSnapshotKey = "k2.dedupe.scanned-snapshot-id"

    public init(catalog: any Catalog, table: TableIdentifier, scope: BronzeDuplicateScope? = nil, dryRun: Bool = false,
                maxAttempts: Int = 8) {
        self.catalog = catalog
        self.table = table
        self.scope = scope
        self.dryRun = dryRun
        self.maxAttempts = maxAttempts
    }

    /// Finds the duplicates and (unless a dry run) commits their removal. Throws `CancellationError` once
    /// `cancellation` is set (checked between files and row groups, and before the commit: nothing is
    /// committed then, and delete files already written are removed); `diagnostics` receives notes (a
    /// retry after a concurrent change).
    public func run(cancellation: CancellationSignal, diagnostics: @escaping @Sendable (String) -> Void) async throws -> BronzeDuplicateRemovalResult {
        var attempt = 0
        while true {
            attempt += 1
            try cancellation.check()
            let loaded = try await catalog.loadTable(table)
            let plan = try await findDuplicates(in: loaded, cancellation: cancellation)
            var result = plan.result(dryRun: dryRun)
            guard !plan.deletes.isEmpty, !dryRun, let base = plan.snapshotId else { return result }

            // FastAppend writes manifests of the default spec: say so before writing anything.
            let spec = loaded.metadata.defaultSpec.specId
            if let old = plan.deletes.first(where: { $0.file.specId != spec }) {
                throw BronzeTableError.unsupported("table \(table): data file \(old.file.filePath) was written under partition spec "
                    + "\(old.file.specId), not the default spec \(spec); its duplicates cannot be removed with position deletes here")
            }
            var written: [DataFile] = []
            var committing = false
            do {
                for (dataFile, positions) in plan.deletes {
                    try cancellation.check()
                    written.append(try await PositionDeleteWriter.write(table: loaded, removing: positions, from: dataFile))
                }
                try cancellation.check()
                committing = true
                let summary = [Self.rowsRemovedKey: String(result.totalRowsRemoved),
                               Self.partitionsKey: result.rowsRemoved.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: ","),
                               Self.scannedSnapshotKey: String(base)]
                let committed = try await FastAppend(catalog: catalog, maxAttempts: maxAttempts).commit(
                    table: loaded, files: [], deleteFiles: written, summary: summary,
                    validate: { reloaded in try Self.checkOnlyAppends(since: base, in: reloaded) })
                result.snapshotId = committed.metadata.currentSnapshot?.snapshotId
                result.deleteFiles = written.map(\.filePath)
                return result
            } catch let change as ConcurrentRowChange {
                // FastAppend removed its manifests: nothing references the delete files.
                await remove(written, io: loaded.io)
                guard attempt < maxAttempts else {
                    throw IcebergError.commitConflict(table: table.description, message: "\(change.description); gave up after \(attempt) attempts")
                }
                diagnostics("table \(table): \(change.description); finding the duplicates again")
            } catch {
                // Once the commit was sent its outcome may be unknown: the files stay (orphans at worst).
                if !committing { await remove(written, io: loaded.io) }
                throw error
            }
        }
    }

    /// What a scan of one snapshot found: the rows to remove, by data file.
    struct Plan {
        var snapshotId: Int64?
        var rowsScanned: Int64 = 0
        var nullKeyRows: Int64 = 0
        var deletes: [(file: DataFile, positions: [Int64])] = []
        var sequenceNumbers: [String: Int64] = [:]
        var rowsRemoved: [Int32: Int64] = [:]
        var duplicateOffsets: [Int32: [ClosedRange<Int64>]] = [:]

        func result(dryRun: Bool) -> BronzeDuplicateRemovalResult {
            BronzeDuplicateRemovalResult(
                scannedSnapshotId: snapshotId, snapshotId: nil, dryRun: dryRun, rowsScanned: rowsScanned, nullKeyRows: nullKeyRows,
                rowsRemoved: rowsRemoved, duplicateOffsets: duplicateOffsets,
                affectedFiles: deletes.map { .init(dataFile: $0.file.filePath, sequenceNumber: sequenceNumbers[$0.file.filePath] ?? 0,
                                                    rowsRemoved: Int64($0.positions.count)) },
                deleteFiles: [])
        }
    }

    /// A commit since the scanned snapshot that may have changed the rows (anything but an append).
    struct ConcurrentRowChange: Error, CustomStringConvertible {
        var description: String
    }

    /// Throws `ConcurrentRowChange` unless every snapshot between `base` and the current one is an append.
    static func checkOnlyAppends(since base: Int64, in table: Table) throws {
        var cursor = table.metadata.currentSnapshot
        var steps = 0
        // The step cap guards against a parent cycle in hostile metadata.
        while let snapshot = cursor, snapshot.snapshotId != base, steps < 100_000 {
            let operation = snapshot.summary["operation"] ?? "?"
            guard operation == "append" else {
                throw ConcurrentRowChange(description: "snapshot \(snapshot.snapshotId) (\(operation)) was committed after snapshot \(base) was scanned")
            }
            cursor = snapshot.parentSnapshotId.flatMap { table.metadata.snapshot(id: $0) }
            steps += 1
        }
        guard cursor?.snapshotId == base else {
            throw ConcurrentRowChange(description: "snapshot \(base), which was scanned, is no longer an ancestor of the current snapshot")
        }
    }

    private func remove(_ files: [DataFile], io: any FileIO) async {
        for file in files { try? await io.delete(file.filePath) }
    }

    /// Scans the current snapshot's `partition` and `offset` within the scope and decides which rows go.
    func findDuplicates(in table: Table, cancellation: CancellationSignal) async throws -> Plan {
        var plan = Plan()
        guard let snapshot = table.metadata.currentSnapshot else { return plan }
        plan.snapshotId = snapshot.snapshotId
        if let scope, scope.partitions.isEmpty { return plan }
        let schema = snapshot.schemaId.flatMap { table.metadata.schema(id: $0) } ?? table.metadata.currentSchema
        guard let partitionField = schema.field(named: "partition"), let offsetField = schema.field(named: "offset") else {
            throw BronzeTableError.unsupported("table \(table.identifier) has no partition or offset column: not a Bronze table")
        }
        let filters = scope?.filters(partitionColumn: partitionField.name, offsetColumn: offsetField.name) ?? []
        // Files in the keep-one rule's order: a row's rank is then (file index, position).
        let tasks = try await TableScan(table: table, snapshotId: snapshot.snapshotId, filters: filters).planFiles()
            .filter { $0.dataFile.content == .data }
            .sorted { ($0.sequenceNumber ?? 0, $0.dataFile.filePath) < ($1.sequenceNumber ?? 0, $1.dataFile.filePath) }
        guard tasks.count < 1 << 23 else {
            throw BronzeTableError.unsupported("table \(table.identifier) has \(tasks.count) data files in scope: narrow the scope")
        }
        let reader = try ScanReader(table: table)
        // Per Kafka partition: (offset, file index << 40 | position) of every row in scope.
        var rows: [Int32: [(offset: Int64, rank: UInt64)]] = [:]
        for (index, task) in tasks.enumerated() {
            try cancellation.check()
            try await reader.readRowGroups(task, fields: [partitionField, offsetField], filters: filters, schema: schema) { batch in
                try cancellation.check()
                guard batch.rowCount > 0 else { return }
                let positions = batch.rowPositions()
                let partitions = try Self.values(batch.columns[0], rows: batch.rowCount, batch: batch, name: "partition") { value -> Int64? in
                    if case .int(let p)? = value { return Int64(p) } else { return nil }
                }
                let offsets = try Self.values(batch.columns[1], rows: batch.rowCount, batch: batch, name: "offset") { value -> Int64? in
                    if case .long(let o)? = value { return o } else { return nil }
                }
                for row in 0..<batch.rowCount {
                    guard let p = partitions[row], let offset = offsets[row] else {
                        plan.nullKeyRows += 1
                        continue
                    }
                    let partition = Int32(truncatingIfNeeded: p)
                    if let scope, !scope.contains(partition: partition, offset: offset) { continue }
                    guard positions[row] < 1 << 40 else {
                        throw BronzeTableError.unsupported("data file \(batch.location) has more than 2^40 rows")
                    }
                    plan.rowsScanned += 1
                    rows[partition, default: []].append((offset, UInt64(index) << 40 | UInt64(positions[row])))
                }
            }
        }
        // Sort each partition's rows by offset then rank: every row after the first of an offset goes.
        var byFile: [Int: [Int64]] = [:]
        for partition in rows.keys.sorted() {
            var list = rows.removeValue(forKey: partition)!
            list.sort { $0.offset != $1.offset ? $0.offset < $1.offset : $0.rank < $1.rank }
            var removed: Int64 = 0
            var runs: [ClosedRange<Int64>] = []
            for i in 1..<max(list.count, 1) where list[i].offset == list[i - 1].offset {
                byFile[Int(list[i].rank >> 40), default: []].append(Int64(list[i].rank & ((1 << 40) - 1)))
                removed += 1
                let offset = list[i].offset
                if let last = runs.last, last.upperBound + 1 >= offset {
                    runs[runs.count - 1] = last.lowerBound...offset
                } else {
                    runs.append(offset...offset)
                }
            }
            if removed > 0 {
                plan.rowsRemoved[partition] = removed
                plan.duplicateOffsets[partition] = runs
            }
        }
        for (index, positions) in byFile.sorted(by: { tasks[$0.key].dataFile.filePath < tasks[$1.key].dataFile.filePath }) {
            let task = tasks[index]
            plan.deletes.append((task.dataFile, positions.sorted()))
            plan.sequenceNumbers[task.dataFile.filePath] = task.sequenceNumber ?? 0
        }
        return plan
    }

    /// A key column of a batch as one optional value per row (nil: null).
    static func values(_ column: ScanColumn, rows: Int, batch: ScanBatch, name: String,
                       _ convert: (IcebergValue?) -> Int64?) throws -> [Int64?] {
        switch column {
        case .constant(let value):
            return Array(repeating: convert(value), count: rows)
        case .values(let data):
            let dense: [Int64]
            switch data.values {
            case .int32(let v): dense = v.map(Int64.init)
            case .int64(let v): dense = v
            default:
                throw BronzeTableError.unsupported("data file \(batch.location), row group \(batch.rowGroup): column \(name) is not an integer column")
            }
            guard let validity = data.validity else {
                guard dense.count == rows else {
                    throw BronzeTableError.unsupported("data file \(batch.location), row group \(batch.rowGroup): columns disagree on the row count")
                }
                return dense.map { $0 }
            }
            var out: [Int64?] = []
            out.reserveCapacity(rows)
            var cursor = 0
            for valid in validity {
                if valid, cursor < dense.count { out.append(dense[cursor]); cursor += 1 } else { out.append(nil) }
            }
            guard out.count == rows else {
                throw BronzeTableError.unsupported("data file \(batch.location), row group \(batch.rowGroup): columns disagree on the row count")
            }
            return out
        }
    }
}
