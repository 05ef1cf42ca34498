import Avro
import Foundation

/// Appends data files to a table as one new snapshot (Iceberg's "fast append"): a new manifest for the
/// files, a manifest list of that manifest plus the parent snapshot's manifests, and a metadata commit.
/// Delete files (position or equality deletes) may come in the same snapshot, in a delete manifest of their
/// own, as Java's `RowDelta` adds them: the snapshot's operation is then `overwrite`, or `delete` when it
/// adds no data file.
///
/// On a commit conflict the table is reloaded, the append re-validated (same schema columns and
/// partition spec), and the manifest list rewritten on top of the new current snapshot; the manifest
/// itself is reused (its entries inherit the sequence number). Files of a failed attempt are removed.
public struct FastAppend: Sendable {
    public let catalog: any Catalog
    public var maxAttempts: Int

    public init(catalog: any Catalog, maxAttempts: Int = 8) {
        self.catalog = catalog
        self.maxAttempts = maxAttempts
    }

    /// Commits `files` and returns the table as of the new snapshot.
    ///
    /// - Parameter summary: extra snapshot-summary keys (engine markers, `k2.replay.*` progress); they
    ///   do not override the computed counts or `operation`.
    /// - Parameter properties: table properties set in the same commit as the snapshot (a `set-properties`
    ///   update), so they change exactly when the files land. Only these keys are written: on a retry the
    ///   catalog applies them to the freshly loaded metadata, keeping every other property as it is.
    /// - Parameter validate: called with each reloaded table before retrying; throw to abort the append
    ///   (for example when a replay finds its progress keys already committed by another process).
    public func commit(table: Table, files: [DataFile], deleteFiles: [DataFile] = [], summary: [String: String] = [:],
                       properties: [String: String] = [:], validate: (@Sendable (Table) throws -> Void)? = nil) async throws -> Table {
        guard !files.isEmpty || !deleteFiles.isEmpty else {
            throw IcebergError.invalidArgument("append to \(table.identifier) with no data files")
        }
        for f in files where f.content != .data {
            throw IcebergError.invalidArgument("\(f.filePath) is a delete file: pass it as one of deleteFiles")
        }
        for f in deleteFiles where f.content == .data {
            throw IcebergError.invalidArgument("\(f.filePath) is a data file: pass it as one of files")
        }
        guard table.metadata.formatVersion == 2 else {
            throw IcebergError.invalidArgument("table \(table.identifier) is format-version \(table.metadata.formatVersion); appends are written for format-version 2 only")
        }
        let spec = table.metadata.defaultSpec
        let schema = table.metadata.currentSchema
        for f in files + deleteFiles where f.specId != spec.specId || f.partition.count != spec.fields.count {
            throw IcebergError.invalidArgument("data file \(f.filePath) does not match partition spec \(spec.specId) of \(table.identifier)")
        }
        let snapshotId = Self.newSnapshotId()
        let io = table.io
        let metadataDir = table.metadata.metadataDirectory
        let commitUUID = UUID().uuidString.lowercased()
        // One manifest for the data files and one for the delete files, written once and reused by every attempt.
        var newManifests: [(location: String, bytes: [UInt8], content: ManifestFile.Content, files: [DataFile],
                            summaries: [PartitionFieldSummary])] = []
        for (index, (content, group)) in [(ManifestFile.Content.data, files), (.deletes, deleteFiles)].enumerated() where !group.isEmpty {
            let entries = group.map {
                ManifestEntry(status: .added, snapshotId: snapshotId, sequenceNumber: nil, fileSequenceNumber: nil, dataFile: $0)
            }
            newManifests.append(("\(metadataDir)/\(commitUUID)-m\(index).avro",
                                 try ManifestWriter.write(entries: entries, schema: schema, spec: spec, content: content), content, group,
                                 try Self.partitionSummaries(group, spec: spec, schema: schema)))
        }
        func deleteNewManifests() async {
            for manifest in newManifests { try? await io.delete(manifest.location) }
        }
        do {
            for manifest in newManifests { try await io.write(manifest.location, contents: manifest.bytes) }
        } catch {
            await deleteNewManifests()
            throw error
        }

        var base = table
        var attempt = 0
        while true {
            attempt += 1
            let parent = base.metadata.currentSnapshot
            let sequenceNumber = base.metadata.lastSequenceNumber + 1
            var manifests = newManifests.map { manifest in ManifestFile(
                manifestPath: manifest.location, manifestLength: Int64(manifest.bytes.count), partitionSpecId: spec.specId,
                content: manifest.content, sequenceNumber: sequenceNumber, minSequenceNumber: sequenceNumber, addedSnapshotId: snapshotId,
                addedFilesCount: Int32(manifest.files.count), existingFilesCount: 0, deletedFilesCount: 0,
                addedRowsCount: manifest.files.reduce(0) { $0 + $1.recordCount }, existingRowsCount: 0, deletedRowsCount: 0,
                partitions: manifest.summaries) }
            let listLocation = "\(metadataDir)/snap-\(snapshotId)-\(attempt)-\(commitUUID).avro"
            do {
                if let parent {
                    let listBytes = try await Self.read(io, parent.manifestList, what: "manifest list of snapshot \(parent.snapshotId)")
                    manifests += try ManifestList.read(listBytes, location: parent.manifestList)
                }
                try await io.write(listLocation, contents: try ManifestList.write(
                    manifests, snapshotId: snapshotId, parentSnapshotId: parent?.snapshotId, sequenceNumber: sequenceNumber))
            } catch {
                // Nothing references these files yet: leave no orphans behind.
                try? await io.delete(listLocation)
                await deleteNewManifests()
                throw error
            }
            let now = max(Int64(Date().timeIntervalSince1970 * 1000), base.metadata.lastUpdatedMs)
            let snapshot = Snapshot(
                snapshotId: snapshotId, parentSnapshotId: parent?.snapshotId, sequenceNumber: sequenceNumber, timestampMs: now,
                manifestList: listLocation, summary: Self.summary(files: files, deleteFiles: deleteFiles, parent: parent, extra: summary),
                schemaId: schema.schemaId)
            var updates: [TableUpdate] = [.addSnapshot(snapshot), .setSnapshotRef(name: "main", snapshotId: snapshotId, type: "branch")]
            if !properties.isEmpty { updates.append(.setProperties(properties)) }
            do {
                return try await catalog.commitTable(base, requirements: [
                    .assertTableUUID(base.metadata.tableUUID),
                    .assertRefSnapshotId(ref: "main", snapshotId: parent?.snapshotId),
                ], updates: updates)
            } catch IcebergError.commitStateUnknown(let name, let message) {
                // The catalog may have applied it: look. Our snapshot in the table means it did; its absence
                // proves nothing (the request may still be in flight), so the files stay either way.
                if let reloaded = try? await catalog.loadTable(table.identifier),
                   reloaded.metadata.snapshots.contains(where: { $0.snapshotId == snapshotId }) {
                    return reloaded
                }
                throw IcebergError.commitStateUnknown(
                    table: name, message: "\(message); snapshot \(snapshotId) not in the table when checked, files kept")
            } catch let error as IcebergError where error.isRefusedCommit {
                // The catalog refused the commit before changing anything: the files are unreferenced.
                // (Other errors leave the outcome unknown, so the files stay: they may be committed.)
                try? await io.delete(listLocation)
                await deleteNewManifests()
                throw error
            } catch IcebergError.commitConflict(let name, let message) {
                try? await io.delete(listLocation)
                guard attempt < maxAttempts else {
                    await deleteNewManifests()
                    throw IcebergError.commitConflict(table: name, message: "\(message); gave up after \(attempt) attempts")
                }
                do {
                    base = try await catalog.loadTable(table.identifier)
                    guard base.metadata.currentSchema.sameStructure(as: schema) else {
                        throw IcebergError.commitFailed(table: name, message: "the table's schema changed during the append")
                    }
                    guard base.metadata.defaultSpec == spec else {
                        throw IcebergError.commitFailed(table: name, message: "the table's partition spec changed during the append")
                    }
                    try validate?(base)
                } catch {
                    await deleteNewManifests()
                    throw error
                }
                // Back off a little, more on each attempt, so contending writers spread out.
                try await Task.sleep(nanoseconds: UInt64.random(in: 5_000_000...20_000_000) * UInt64(attempt))
            }
        }
    }

    static func read(_ io: any FileIO, _ location: String, what: String) async throws -> [UInt8] {
        do {
            return try await io.read(location)
        } catch {
            throw IcebergError.corruptFile(location: location, message: "\(what) cannot be read: \(error)")
        }
    }

    /// A positive random snapshot id, as Java derives one from a random UUID.
    static func newSnapshotId() -> Int64 {
        Int64.random(in: 1...Int64.max)
    }

    static func summary(files: [DataFile], deleteFiles: [DataFile] = [], parent: Snapshot?, extra: [String: String]) -> [String: String] {
        let addedRecords = files.reduce(Int64(0)) { $0 + $1.recordCount }
        let addedSize = (files + deleteFiles).reduce(Int64(0)) { $0 + $1.fileSizeInBytes }
        let positionDeletes = deleteFiles.filter { $0.content == .positionDeletes }.reduce(Int64(0)) { $0 + $1.recordCount }
        let equalityDeletes = deleteFiles.filter { $0.content == .equalityDeletes }.reduce(Int64(0)) { $0 + $1.recordCount }
        let partitions = Set((files + deleteFiles).map { $0.partition.map { $0?.description ?? "null" }.joined(separator: "/") })
        // A parent without a total (some writers omit them) leaves that total unknown, so it is omitted,
        // as Java does, rather than restarted from this append's count.
        func total(_ key: String, plus: Int64) -> String? {
            guard let parent else { return String(plus) }
            return parent.summary[key].flatMap(Int64.init).map { String($0 + plus) }
        }
        var s = extra
        for key in ["total-records", "total-files-size", "total-data-files", "total-delete-files",
                    "total-position-deletes", "total-equality-deletes"] { s[key] = nil }
        s["operation"] = deleteFiles.isEmpty ? "append" : (files.isEmpty ? "delete" : "overwrite")
        if !files.isEmpty {
            s["added-data-files"] = String(files.count)
            s["added-records"] = String(addedRecords)
        }
        if !deleteFiles.isEmpty {
            s["added-delete-files"] = String(deleteFiles.count)
            if positionDeletes > 0 { s["added-position-deletes"] = String(positionDeletes) }
            if equalityDeletes > 0 { s["added-equality-deletes"] = String(equalityDeletes) }
        }
        s["added-files-size"] = String(addedSize)
        s["changed-partition-count"] = String(partitions.count)
        s["total-records"] = total("total-records", plus: addedRecords)
        s["total-files-size"] = total("total-files-size", plus: addedSize)
        s["total-data-files"] = total("total-data-files", plus: Int64(files.count))
        s["total-delete-files"] = total("total-delete-files", plus: Int64(deleteFiles.count))
        s["total-position-deletes"] = total("total-position-deletes", plus: positionDeletes)
        s["total-equality-deletes"] = total("total-equality-deletes", plus: equalityDeletes)
        return s
    }

    static func partitionSummaries(_ files: [DataFile], spec: PartitionSpec, schema: Schema) throws -> [PartitionFieldSummary] {
        let type = try spec.partitionType(schema: schema)
        return type.fields.indices.map { i in
            var containsNull = false
            var containsNaN = false
            var lower: IcebergValue?
            var upper: IcebergValue?
            for f in files {
                guard let v = f.partition[i] else { containsNull = true; continue }
                if case .double(let d) = v, d.isNaN { containsNaN = true; continue }
                if case .float(let d) = v, d.isNaN { containsNaN = true; continue }
                if lower == nil || (IcebergValue.compare(v, lower!) ?? 0) < 0 { lower = v }
                if upper == nil || (IcebergValue.compare(v, upper!) ?? 0) > 0 { upper = v }
            }
            return PartitionFieldSummary(containsNull: containsNull, containsNaN: containsNaN,
                                         lowerBound: lower?.singleValueBytes(), upperBound: upper?.singleValueBytes())
        }
    }
}
