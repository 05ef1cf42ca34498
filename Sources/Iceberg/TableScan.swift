/// An inclusive range on one column (`lower <= column <= upper`; a nil side is open), the predicate
/// form scans prune with: by partition values (through order-preserving transforms) and column bounds.
public struct ColumnRange: Sendable, Equatable {
    public var column: String
    public var lower: IcebergValue?
    public var upper: IcebergValue?

    public init(column: String, lower: IcebergValue? = nil, upper: IcebergValue? = nil) {
        self.column = column
        self.lower = lower
        self.upper = upper
    }

    /// Whether values in [`min`, `max`] may satisfy the range (unknown comparisons count as "may").
    func mayOverlap(min: IcebergValue?, max: IcebergValue?) -> Bool {
        if let lower, let max, let c = IcebergValue.compare(max, lower), c < 0 { return false }
        if let upper, let min, let c = IcebergValue.compare(min, upper), c > 0 { return false }
        return true
    }
}

/// A data file to read, with the snapshot data it came from and the delete files that apply to it.
public struct FileScanTask: Sendable, Equatable {
    public var dataFile: DataFile
    public var snapshotId: Int64?
    public var sequenceNumber: Int64?
    /// Position and equality delete files whose rows a reader must remove (`RowDeleteLoader`).
    public var deletes: [ScanDeleteFile] = []
}

/// Plans a scan of one snapshot: reads its manifest list and manifests and keeps the live data files that
/// may hold rows within `filters`, each with the delete files that apply to it (table spec, "Scan Planning":
/// a position delete applies to data files of its partition with a data sequence number no greater than
/// its own, an equality delete to those with a smaller one, in its partition or, unpartitioned, everywhere).
/// Delete files the scan cannot apply (v3 deletion vectors, Avro or ORC deletes) are refused by name.
public struct TableScan: Sendable {
    public let table: Table
    public var snapshotId: Int64?
    public var asOfTimestampMs: Int64?
    public var filters: [ColumnRange]

    public init(table: Table, snapshotId: Int64? = nil, asOfTimestampMs: Int64? = nil, filters: [ColumnRange] = []) {
        self.table = table
        self.snapshotId = snapshotId
        self.asOfTimestampMs = asOfTimestampMs
        self.filters = filters
    }

    /// The snapshot the scan reads: by id, as of a time, or the current one (nil for an empty table).
    public func snapshot() throws -> Snapshot? {
        let m = table.metadata
        if let id = snapshotId {
            guard let s = m.snapshot(id: id) else { throw IcebergError.noSuchSnapshot("\(id) in table \(table.identifier)") }
            return s
        }
        if let ts = asOfTimestampMs {
            guard let s = m.snapshot(asOf: ts) else {
                throw IcebergError.noSuchSnapshot("no snapshot of \(table.identifier) at or before \(ts) ms")
            }
            return s
        }
        return m.currentSnapshot
    }

    public func planFiles() async throws -> [FileScanTask] {
        guard let snapshot = try snapshot() else { return [] }
        let m = table.metadata
        let schema = snapshot.schemaId.flatMap { m.schema(id: $0) } ?? m.currentSchema
        for f in filters where schema.field(named: f.column) == nil {
            throw IcebergError.invalidArgument("table \(table.identifier) has no column \(f.column)")
        }
        let listBytes = try await FastAppend.read(table.io, snapshot.manifestList, what: "manifest list of snapshot \(snapshot.snapshotId)")
        let manifests = try ManifestList.read(listBytes, location: snapshot.manifestList)
        var tasks: [FileScanTask] = []
        let deletes = try await deleteFiles(manifests, schema: schema)
        for manifest in manifests where manifest.content == .data {
            guard let spec = m.spec(id: manifest.partitionSpecId) else {
                throw IcebergError.corruptFile(location: manifest.manifestPath, message: "unknown partition spec \(manifest.partitionSpecId)")
            }
            let projections = try partitionProjections(spec: spec, schema: schema)
            if !manifestMayMatch(manifest, projections: projections, spec: spec, schema: schema) { continue }
            let bytes = try await FastAppend.read(table.io, manifest.manifestPath, what: "manifest")
            for entry in try ManifestReader.read(bytes, location: manifest.manifestPath, manifest: manifest, schema: schema, specs: m.partitionSpecs)
            where entry.status != .deleted {
                let file = entry.dataFile
                if !fileMayMatch(file, projections: projections, schema: schema) { continue }
                var task = FileScanTask(dataFile: file, snapshotId: entry.snapshotId, sequenceNumber: entry.sequenceNumber)
                if !deletes.isEmpty { task.deletes = Self.deletes(deletes, applyingTo: task, specs: m.partitionSpecs) }
                tasks.append(task)
            }
        }
        return tasks
    }

    /// The live delete files of a snapshot, checked to be ones a scan can apply.
    private func deleteFiles(_ manifests: [ManifestFile], schema: Schema) async throws -> [ScanDeleteFile] {
        var out: [ScanDeleteFile] = []
        let m = table.metadata
        for manifest in manifests where manifest.content == .deletes {
            let bytes = try await FastAppend.read(table.io, manifest.manifestPath, what: "delete manifest")
            for entry in try ManifestReader.read(bytes, location: manifest.manifestPath, manifest: manifest, schema: schema, specs: m.partitionSpecs)
            where entry.status != .deleted {
                let file = entry.dataFile
                try Self.checkApplicable(file, table: table.identifier.description, manifest: manifest.manifestPath)
                out.append(ScanDeleteFile(file: file, sequenceNumber: entry.sequenceNumber ?? 0))
            }
        }
        return out
    }

    /// Throws, naming the file, for a delete file a scan cannot apply: a reader that skipped it would read
    /// rows the table no longer holds.
    static func checkApplicable(_ file: DataFile, table: String, manifest: String) throws {
        let format = file.fileFormat.uppercased()
        if format == "PUFFIN" || file.contentOffset != nil {
            throw IcebergError.invalidArgument("""
                table \(table) has a deletion vector (format-version 3) in \(file.filePath): deletion vectors are not supported, \
                so its rows cannot be read as the table holds them
                """)
        }
        guard format == "PARQUET" else {
            throw IcebergError.invalidArgument("""
                table \(table) has a \(file.fileFormat) delete file \(file.filePath): only Parquet delete files are supported, \
                so its rows cannot be read as the table holds them
                """)
        }
        if file.content == .equalityDeletes && (file.equalityIds ?? []).isEmpty {
            throw IcebergError.corruptFile(location: manifest, message: "equality delete file \(file.filePath) lists no equality_ids")
        }
    }

    /// The delete files of `all` that apply to a data file, by the spec's sequence-number and partition rules.
    static func deletes(_ all: [ScanDeleteFile], applyingTo task: FileScanTask, specs: [PartitionSpec]) -> [ScanDeleteFile] {
        let data = task.dataFile
        let dataSequence = task.sequenceNumber ?? 0
        return all.filter { delete in
            let file = delete.file
            let unpartitioned = specs.first(where: { $0.specId == file.specId })?.fields.isEmpty ?? false
            let samePartition = file.specId == data.specId && file.partition == data.partition
            switch file.content {
            case .positionDeletes:
                if let referenced = file.referencedDataFile ?? Self.singleReferencedPath(file), referenced != data.filePath { return false }
                return delete.sequenceNumber >= dataSequence && (samePartition || unpartitioned)
            case .equalityDeletes:
                return delete.sequenceNumber > dataSequence && (samePartition || unpartitioned)
            case .data:
                return false
            }
        }
    }

    /// The one data file a position delete file names, when its `file_path` bounds are equal (as Java reads
    /// them when `referenced_data_file` is absent): it applies to that file alone.
    static func singleReferencedPath(_ file: DataFile) -> String? {
        let id = Int(PositionDeleteWriter.filePathFieldId)
        guard let lower = file.lowerBounds[id], let upper = file.upperBounds[id], lower == upper else { return nil }
        return String(decoding: lower, as: UTF8.self)
    }

    /// For each filter, the partition field positions and projected ranges (order-preserving transforms only).
    private func partitionProjections(spec: PartitionSpec, schema: Schema) throws -> [(Int, ColumnRange)] {
        var out: [(Int, ColumnRange)] = []
        for filter in filters {
            guard let column = schema.field(named: filter.column) else { continue }
            for (i, field) in spec.fields.enumerated() where field.sourceId == column.id {
                switch field.transform {
                case .identity, .year, .month, .day, .hour, .truncate:
                    let lower = try? field.transform.apply(filter.lower)
                    let upper = try? field.transform.apply(filter.upper)
                    out.append((i, ColumnRange(column: field.name, lower: lower ?? nil, upper: upper ?? nil)))
                case .bucket, .void:
                    continue
                }
            }
        }
        return out
    }

    private func manifestMayMatch(_ manifest: ManifestFile, projections: [(Int, ColumnRange)], spec: PartitionSpec, schema: Schema) -> Bool {
        guard let summaries = manifest.partitions, let type = try? spec.partitionType(schema: schema) else { return true }
        for (i, range) in projections where i < summaries.count {
            let s = summaries[i]
            guard let lo = s.lowerBound, let hi = s.upperBound else { continue }
            let t = type.fields[i].type
            guard let min = try? IcebergValue(singleValue: lo, type: t), let max = try? IcebergValue(singleValue: hi, type: t) else { continue }
            if !range.mayOverlap(min: min, max: max) { return false }
        }
        return true
    }

    private func fileMayMatch(_ file: DataFile, projections: [(Int, ColumnRange)], schema: Schema) -> Bool {
        for (i, range) in projections where i < file.partition.count {
            guard let v = file.partition[i] else { return false }
            if !range.mayOverlap(min: v, max: v) { return false }
        }
        return Self.boundsMayMatch(file, filters: filters, schema: schema)
    }

    /// Whether a data file's column statistics (null counts, lower and upper bounds) allow rows within every filter.
    static func boundsMayMatch(_ file: DataFile, filters: [ColumnRange], schema: Schema) -> Bool {
        for filter in filters {
            guard let column = schema.field(named: filter.column), column.type.isPrimitive else { continue }
            if let nulls = file.nullValueCounts[column.id], let values = file.valueCounts[column.id], nulls == values, values > 0 {
                return false
            }
            let min = file.lowerBounds[column.id].flatMap { try? IcebergValue(singleValue: $0, type: column.type) }
            let max = file.upperBounds[column.id].flatMap { try? IcebergValue(singleValue: $0, type: column.type) }
            // Truncated string/binary bounds stay bounds: writers round the upper one up.
            if !filter.mayOverlap(min: min, max: max) { return false }
        }
        return true
    }
}
