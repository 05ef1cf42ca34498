import Foundation
import Iceberg
import K2CLI
import Parity
import Parquet

/// A Bronze Iceberg table as a side: the data files of one snapshot, read file by file and row group by
/// row group with only the columns the check needs (`topic`, `partition`, `offset`, `kafka_timestamp`,
/// `ingestion_date`; `raw_bytes` only for payloads). Files are pruned with the manifests' partition values
/// and column bounds, row groups with the Parquet statistics.
///
/// Both Bronze styles read the same: nullable or required columns, `timestamptz` or `timestamp`, Parquet
/// timestamps in millis or micros, `day(ingestion_date)` or identity partitioning, any codec.
final class IcebergParitySource: ParitySource {
    let table: Table
    let snapshot: Snapshot?
    let description: SideDescription
    private(set) var health: TableHealth?
    private var rowsRead: Int64 = 0
    private var nullKeyRows: Int64 = 0
    private var deletedRows: Int64 = 0
    private var deleteLoader: RowDeleteLoader?

    init(table: Table, snapshotId: Int64?, asOfMillis: Int64?, catalogName: String) throws {
        self.table = table
        do {
            snapshot = try TableScan(table: table, snapshotId: snapshotId, asOfTimestampMs: asOfMillis).snapshot()
        } catch {
            throw VerifyFailure("table \(table.identifier): \(error)")
        }
        var details = ["catalog": catalogName, "metadata_location": table.metadataLocation,
                       "format_version": String(table.metadata.formatVersion)]
        if let snapshot { details["snapshot_timestamp"] = TimeParser.rfc3339(epochNanoseconds: snapshot.timestampMs * 1_000_000) }
        description = SideDescription(kind: "iceberg", name: table.identifier.description, snapshotId: snapshot?.snapshotId, details: details)
    }

    private func resolveColumns(payload: Bool) throws -> BronzeColumns {
        let schema = snapshot.flatMap { $0.schemaId }.flatMap { table.metadata.schema(id: $0) } ?? table.metadata.currentSchema
        func field(_ name: String) throws -> NestedField {
            guard let field = schema.field(named: name) else {
                throw VerifyFailure("table \(table.identifier) has no column \(name) (not a Bronze table?)")
            }
            return field
        }
        var columns = BronzeColumns(topic: try field("topic"), partition: try field("partition"), offset: try field("offset"),
                              kafkaTimestamp: try field("kafka_timestamp"), ingestionDate: schema.field(named: "ingestion_date"))
        if payload { columns.rawBytes = try field("raw_bytes") }
        return columns
    }

    func scan(scope: ParityScope, partitions: Set<PartitionKey>?, payload: Bool,
              into sink: (inout ParityChunk) throws -> Void) async throws {
        guard let snapshot else {
            if health == nil { health = try await checkHealth(scanned: false, scope: scope, columns: nil) }
            return
        }
        let columns = try resolveColumns(payload: payload)
        // Prune files by the Kafka partition numbers and the time window (manifest partition values and bounds).
        var filters: [ColumnRange] = []
        let wantedPartitions = partitions.map { Set($0.map(\.partition)) } ?? scope.partitions
        if let wanted = wantedPartitions, let low = wanted.min(), let high = wanted.max() {
            filters.append(ColumnRange(column: columns.partition.name, lower: .int(low), upper: .int(high)))
        }
        if scope.filtersTime {
            let isZoned = columns.kafkaTimestamp.type == .timestamptz
            func value(_ micros: Int64?) -> IcebergValue? {
                micros.map { isZoned ? .timestamptz($0) : .timestamp($0) }
            }
            filters.append(ColumnRange(column: columns.kafkaTimestamp.name, lower: value(scope.sinceMicros),
                                       upper: value(scope.untilMicros.map { $0 - 1 })))
        }
        let tasks: [FileScanTask]
        do {
            tasks = try await TableScan(table: table, snapshotId: snapshot.snapshotId, filters: filters).planFiles()
        } catch {
            throw VerifyFailure("table \(table.identifier), snapshot \(snapshot.snapshotId): \(error)")
        }
        let countsRows = partitions == nil && !payload
        var reader = BronzeFileReader(columns: columns, nameMapping: try nameMapping(), payload: payload, wanted: wantedPartitions, keys: partitions)
        if deleteLoader == nil {
            do { deleteLoader = try RowDeleteLoader(table: table) } catch { throw VerifyFailure("\(error)") }
        }
        let schema = snapshot.schemaId.flatMap { table.metadata.schema(id: $0) } ?? table.metadata.currentSchema
        for task in tasks where task.dataFile.content == .data {
            let location = task.dataFile.filePath
            guard task.dataFile.fileFormat.uppercased() == "PARQUET" else {
                throw VerifyFailure("table \(table.identifier): data file \(location) is \(task.dataFile.fileFormat), only Parquet is read")
            }
            do {
                let deletes = try await deleteLoader!.deletes(for: task)
                let equalityFields = try deletes.equalityFieldIds.sorted().map { id in
                    guard let field = table.metadata.field(id: id, preferring: schema) else {
                        throw VerifyFailure("table \(table.identifier): an equality delete file compares field id \(id), which no schema has")
                    }
                    return field
                }
                let parquet = try await table.openParquet(location)
                try reader.read(parquet, location: location, scope: scope, deletes: deletes, equalityFields: equalityFields, sink: sink)
            } catch let failure as VerifyFailure {
                throw failure
            } catch {
                throw VerifyFailure("table \(table.identifier): data file \(location): \(error)")
            }
        }
        if countsRows {
            rowsRead += reader.rowsRead
            nullKeyRows += reader.nullKeyRows
            deletedRows += reader.deletedRows
        }
        if health == nil && countsRows {
            health = try await checkHealth(scanned: !scope.filtersTime && scope.partitions == nil, scope: scope, columns: columns)
        }
    }

    private func nameMapping() throws -> NameMapping? {
        do {
            return try NameMapping(table: table)
        } catch {
            throw VerifyFailure("\(error)")
        }
    }

    // MARK: health

    static func mayOverlap(_ file: DataFile, scope: ParityScope, columns: BronzeColumns) -> Bool {
        func bounds(_ field: NestedField) -> (IcebergValue?, IcebergValue?) {
            (file.lowerBounds[field.id].flatMap { try? IcebergValue(singleValue: $0, type: field.type) },
             file.upperBounds[field.id].flatMap { try? IcebergValue(singleValue: $0, type: field.type) })
        }
        if let wanted = scope.partitions, let low = wanted.min(), let high = wanted.max() {
            let (lower, upper) = bounds(columns.partition)
            if let upper, let c = IcebergValue.compare(upper, .int(low)), c < 0 { return false }
            if let lower, let c = IcebergValue.compare(lower, .int(high)), c > 0 { return false }
            if case .int(let l)? = lower, case .int(let u)? = upper, l == u, !wanted.contains(l) { return false }
        }
        if scope.filtersTime {
            let (lower, upper) = bounds(columns.kafkaTimestamp)
            let zoned = columns.kafkaTimestamp.type == .timestamptz
            func value(_ micros: Int64) -> IcebergValue { zoned ? .timestamptz(micros) : .timestamp(micros) }
            if let since = scope.sinceMicros, let upper, let c = IcebergValue.compare(upper, value(since)), c < 0 { return false }
            if let until = scope.untilMicros, let lower, let c = IcebergValue.compare(lower, value(until)), c >= 0 { return false }
        }
        return true
    }

    static let markerKeys = ["spark.sql.streaming.queryId", "spark.sql.streaming.epochId",
                             "flink.job-id", "flink.operator-id", "flink.max-committed-checkpoint-id"]

    /// Reads the snapshot's manifests for data files listed as ADDED by more than one snapshot, compares
    /// `total-records` with the rows read, and collects the engines' commit markers along the ancestry.
    /// With a scope, a file committed twice counts only when its column bounds say it may hold rows in the
    /// scope (the check says nothing about rows outside it).
    private func checkHealth(scanned: Bool, scope: ParityScope, columns: BronzeColumns?) async throws -> TableHealth {
        let name = table.identifier.description
        guard let snapshot else {
            return TableHealth(table: name, snapshotId: nil, snapshots: table.metadata.snapshots.count, dataFiles: 0,
                               duplicateAddedFiles: [], summaryTotalRecords: nil, rowsRead: 0, totalRecordsMatch: nil,
                               commitMarkers: [], problems: [])
        }
        let metadata = table.metadata
        let schema = snapshot.schemaId.flatMap { metadata.schema(id: $0) } ?? metadata.currentSchema
        var addedBy: [String: (snapshots: [Int64], records: Int64)] = [:]
        var liveFiles: [String: Int] = [:]
        var outOfScope = Set<String>()
        var deleteFiles = 0
        do {
            let list = try ManifestList.read(try await table.io.read(snapshot.manifestList), location: snapshot.manifestList)
            for manifest in list where manifest.content == .deletes {
                let bytes = try await table.io.read(manifest.manifestPath)
                deleteFiles += try ManifestReader.read(bytes, location: manifest.manifestPath, manifest: manifest, schema: schema,
                                                       specs: metadata.partitionSpecs).filter { $0.status != .deleted }.count
            }
            for manifest in list where manifest.content == .data {
                let bytes = try await table.io.read(manifest.manifestPath)
                for entry in try ManifestReader.read(bytes, location: manifest.manifestPath, manifest: manifest, schema: schema,
                                                     specs: metadata.partitionSpecs) {
                    let path = entry.dataFile.filePath
                    guard entry.status != .deleted else { continue }
                    liveFiles[path, default: 0] += 1
                    let inScope = columns.map { Self.mayOverlap(entry.dataFile, scope: scope, columns: $0) } ?? true
                    if !inScope { outOfScope.insert(path) }
                    if entry.status == .added && inScope {
                        let id = entry.snapshotId ?? manifest.addedSnapshotId
                        var seen = addedBy[path] ?? ([], entry.dataFile.recordCount)
                        if !seen.snapshots.contains(id) { seen.snapshots.append(id) }
                        addedBy[path] = seen
                    }
                }
            }
        } catch {
            throw VerifyFailure("table \(name), snapshot \(snapshot.snapshotId): reading manifests: \(error)")
        }
        var problems: [String] = []
        let duplicates = addedBy.filter { $0.value.snapshots.count > 1 }.sorted { $0.key < $1.key }.map {
            DuplicateAddedFile(path: $0.key, snapshotIds: $0.value.snapshots.sorted(), records: $0.value.records)
        }
        for duplicate in duplicates {
            problems.append("data file \(duplicate.path) added by \(duplicate.snapshotIds.count) snapshots (\(duplicate.snapshotIds.map(String.init).joined(separator: ", "))): its \(duplicate.records.map(String.init) ?? "?") rows are committed more than once")
        }
        for (path, count) in liveFiles.sorted(by: { $0.key < $1.key }) where count > 1 && !outOfScope.contains(path) && addedBy[path].map({ $0.snapshots.count <= 1 }) ?? true {
            problems.append("data file \(path) is live \(count) times in snapshot \(snapshot.snapshotId)")
        }
        let total = snapshot.summary["total-records"].flatMap { Int64($0) }
        var match: Bool?
        // total-records counts rows of data files, deleted or not.
        if scanned, let total {
            match = total == rowsRead + nullKeyRows + deletedRows
            if match == false {
                problems.append("snapshot \(snapshot.snapshotId) summary says total-records \(total), the data files hold \(rowsRead + nullKeyRows + deletedRows) rows")
            }
        }
        if nullKeyRows > 0 {
            problems.append("\(nullKeyRows) row(s) have a null topic, partition, offset or kafka_timestamp and cannot be placed")
        }
        // Markers: the latest value of each key walking back from the checked snapshot.
        var markers: [CommitMarker] = []
        var pending = Set(Self.markerKeys)
        var cursor: Snapshot? = snapshot
        var steps = 0
        while let current = cursor, !pending.isEmpty, steps < 100_000 {
            for key in Self.markerKeys where pending.contains(key) {
                if let value = current.summary[key] {
                    markers.append(CommitMarker(key: key, value: value, snapshotId: current.snapshotId))
                    pending.remove(key)
                }
            }
            cursor = current.parentSnapshotId.flatMap { metadata.snapshot(id: $0) }
            steps += 1
        }
        return TableHealth(table: name, snapshotId: snapshot.snapshotId, snapshots: metadata.snapshots.count,
                           dataFiles: liveFiles.count, duplicateAddedFiles: duplicates, summaryTotalRecords: total,
                           rowsRead: scanned ? rowsRead + nullKeyRows : nil, totalRecordsMatch: match,
                           deleteFiles: deleteFiles, rowsDeleted: scanned ? deletedRows : nil,
                           commitMarkers: markers.sorted { $0.key < $1.key }, problems: problems)
    }
}

