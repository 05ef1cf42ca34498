/// What a snapshot's metadata says about the table, beside what a scan reads: data files committed more
/// than once, live delete files, the summary's `total-records`, and the engines' commit markers along the
/// snapshot's ancestry. Reads manifests only, never data files.
public struct TableInspection: Sendable {
    public let table: Table

    public init(table: Table) {
        self.table = table
    }

    /// The files of `snapshot`. With `filters` (column names of the snapshot's schema), a data file counts
    /// as repeated only when its column bounds say it may hold rows within them.
    public func files(of snapshot: Snapshot, filters: [ColumnRange] = []) async throws -> SnapshotFiles {
        let metadata = table.metadata
        let schema = snapshot.schemaId.flatMap { metadata.schema(id: $0) } ?? metadata.currentSchema
        var added: [String: (snapshots: [Int64], records: Int64)] = [:]
        var live: [String: Int] = [:]
        var outside = Set<String>()
        var deleteFiles = 0
        let list = try ManifestList.read(try await table.io.read(snapshot.manifestList), location: snapshot.manifestList)
        for manifest in list {
            let bytes = try await table.io.read(manifest.manifestPath)
            let entries = try ManifestReader.read(bytes, location: manifest.manifestPath, manifest: manifest, schema: schema,
                                                  specs: metadata.partitionSpecs)
            for entry in entries where entry.status != .deleted {
                guard manifest.content == .data else {
                    deleteFiles += 1
                    continue
                }
                let path = entry.dataFile.filePath
                live[path, default: 0] += 1
                guard filters.isEmpty || TableScan.boundsMayMatch(entry.dataFile, filters: filters, schema: schema) else {
                    outside.insert(path)
                    continue
                }
                // The same path ADDED by two snapshots: the same rows committed twice.
                if entry.status == .added {
                    let id = entry.snapshotId ?? manifest.addedSnapshotId
                    var seen = added[path] ?? ([], entry.dataFile.recordCount)
                    if !seen.snapshots.contains(id) { seen.snapshots.append(id) }
                    added[path] = seen
                }
            }
        }
        let repeatedAdds = added.filter { $0.value.snapshots.count > 1 }.sorted { $0.key < $1.key }.map {
            RepeatedDataFile(path: $0.key, addedBySnapshots: $0.value.snapshots.sorted(), recordCount: $0.value.records)
        }
        // Listed live more than once without having been added twice (a manifest rewrite gone wrong).
        let repeatedLive = live.filter { path, count in
            count > 1 && !outside.contains(path) && (added[path].map { $0.snapshots.count <= 1 } ?? true)
        }.sorted { $0.key < $1.key }.map { LiveDataFileRepeat(path: $0.key, times: $0.value) }
        return SnapshotFiles(snapshotId: snapshot.snapshotId, liveDataFiles: live.count, liveDeleteFiles: deleteFiles,
                             summaryTotalRecords: snapshot.summary["total-records"].flatMap { Int64($0) },
                             addedMoreThanOnce: repeatedAdds, liveMoreThanOnce: repeatedLive)
    }

    /// The latest value of each of `keys` in the summaries of `snapshot` and its ancestors, by key.
    public func summaryMarkers(of snapshot: Snapshot, keys: [String]) -> [SummaryMarker] {
        var markers: [SummaryMarker] = []
        var pending = Set(keys)
        var cursor: Snapshot? = snapshot
        var steps = 0
        // The step cap guards against a parent cycle in hostile metadata.
        while let current = cursor, !pending.isEmpty, steps < 100_000 {
            for key in keys where pending.contains(key) {
                if let value = current.summary[key] {
                    markers.append(SummaryMarker(key: key, value: value, snapshotId: current.snapshotId))
                    pending.remove(key)
                }
            }
            cursor = current.parentSnapshotId.flatMap { table.metadata.snapshot(id: $0) }
            steps += 1
        }
        return markers.sorted { $0.key < $1.key }
    }

    /// The commit markers Spark structured streaming and Flink's Iceberg sink leave in snapshot summaries.
    public static let engineMarkerKeys = ["spark.sql.streaming.queryId", "spark.sql.streaming.epochId",
                                          "flink.job-id", "flink.operator-id", "flink.max-committed-checkpoint-id"]
}
