extension Table {
    /// The data files a snapshot added (its own ADDED entries), read from the manifests it wrote.
    ///
    /// For table health checks: a data file added by two snapshots is the duplicate-commit failure
    /// known from Kafka Connect's Iceberg sink.
    public func addedDataFiles(of snapshot: Snapshot) async throws -> [ManifestEntry] {
        let listBytes = try await FastAppend.read(io, snapshot.manifestList, what: "manifest list of snapshot \(snapshot.snapshotId)")
        var out: [ManifestEntry] = []
        for manifest in try ManifestList.read(listBytes, location: snapshot.manifestList)
        where manifest.addedSnapshotId == snapshot.snapshotId && manifest.content == .data {
            let bytes = try await FastAppend.read(io, manifest.manifestPath, what: "manifest")
            let schema = snapshot.schemaId.flatMap { metadata.schema(id: $0) } ?? metadata.currentSchema
            out += try ManifestReader.read(bytes, location: manifest.manifestPath, manifest: manifest, schema: schema,
                                           specs: metadata.partitionSpecs)
                .filter { $0.status == .added && $0.snapshotId == snapshot.snapshotId }
        }
        return out
    }

    /// Snapshots from the current one back to the first, following parent ids (the main branch's history).
    public var history: [Snapshot] {
        var out: [Snapshot] = []
        var next = metadata.currentSnapshot
        var seen = Set<Int64>()
        while let s = next, seen.insert(s.snapshotId).inserted {
            out.append(s)
            next = s.parentSnapshotId.flatMap { metadata.snapshot(id: $0) }
        }
        return out.reversed()
    }
}
