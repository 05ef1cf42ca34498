import K2Core
import Foundation
import Iceberg
import Parity

/// A Bronze Iceberg table as a side: the data files of one snapshot, read through the Iceberg module's
/// scan (`TableScan` plans and prunes the files by partition values and column bounds, `ScanReader` reads
/// row group by row group the columns the check needs by field id, converted to microseconds, deleted
/// rows left out): `topic`, `partition`, `offset`, `kafka_timestamp`, `ingestion_date`, and `raw_bytes`
/// only for payloads.
///
/// Both Bronze styles read the same: nullable or required columns, `timestamptz` or `timestamp`, Parquet
/// timestamps in millis or micros or INT96, `day(ingestion_date)` or identity partitioning, any codec.
final class IcebergParitySource: ParitySource {
    let table: Table
    let snapshot: Snapshot?
    let description: SideDescription
    private let cancellation: CancellationSignal
    private(set) var health: TableHealth?
    private var rowsRead: Int64 = 0
    private var nullKeyRows: Int64 = 0
    private var deletedRows: Int64 = 0
    private var reader: ScanReader?

    /// `total-records` of the checked snapshot (rows deleted by delete files included: an upper bound); none
    /// without a snapshot.
    var expectedRows: Int64? {
        guard let snapshot else { return 0 }
        return snapshot.summary["total-records"].flatMap { Int64($0) }
    }

    init(table: Table, snapshotId: Int64?, asOfMillis: Int64?, catalogName: String, cancellation: CancellationSignal) throws {
        self.table = table
        self.cancellation = cancellation
        do {
            snapshot = try TableScan(table: table, snapshotId: snapshotId, asOfTimestampMs: asOfMillis).snapshot()
        } catch {
            throw ParityCheckError("table \(table.identifier): \(error)")
        }
        var details = ["catalog": catalogName, "metadata_location": table.metadataLocation,
                       "format_version": String(table.metadata.formatVersion)]
        if let snapshot { details["snapshot_timestamp"] = Self.rfc3339(millis: snapshot.timestampMs) }
        description = SideDescription(kind: "iceberg", name: table.identifier.description, snapshotId: snapshot?.snapshotId, details: details)
    }

    func scan(scope: ParityScope, partitions: Set<PartitionKey>?, payload: Bool,
              into sink: (inout ParityChunk) throws -> Void) async throws {
        guard let snapshot else {
            if health == nil { health = TableHealthAssessment.emptyTable(table) }
            return
        }
        let schema = snapshot.schemaId.flatMap { table.metadata.schema(id: $0) } ?? table.metadata.currentSchema
        let columns = try BronzeColumns(schema: schema, table: table.identifier, payload: payload)
        let wantedPartitions = partitions.map { Set($0.map(\.partition)) } ?? scope.partitions
        let filters = Self.filters(columns: columns, partitions: wantedPartitions, scope: scope)
        let tasks: [FileScanTask]
        do {
            tasks = try await TableScan(table: table, snapshotId: snapshot.snapshotId, filters: filters).planFiles()
            if reader == nil { reader = try ScanReader(table: table) }
        } catch {
            throw ParityCheckError("table \(table.identifier), snapshot \(snapshot.snapshotId): \(error)")
        }
        let countsRows = partitions == nil && !payload
        var router = BronzeRowRouter(columns: columns, wanted: wantedPartitions, keys: partitions)
        for task in tasks where task.dataFile.content == .data {
            try cancellation.check()
            let location = task.dataFile.filePath
            guard task.dataFile.fileFormat.uppercased() == "PARQUET" else {
                throw ParityCheckError("table \(table.identifier): data file \(location) is \(task.dataFile.fileFormat), only Parquet is read")
            }
            do {
                try await reader!.readRowGroups(task, fields: columns.projection, filters: filters,
                                                uniform: [columns.topic.id], schema: schema) { batch in
                    try cancellation.check()
                    try router.route(batch, sink: sink)
                }
            } catch let error as ParityCheckError {
                throw error
            } catch let error as CancellationError {
                throw error
            } catch {
                throw ParityCheckError("table \(table.identifier): data file \(location): \(error)")
            }
        }
        if countsRows {
            rowsRead += router.rowsRead
            nullKeyRows += router.nullKeyRows
            deletedRows += router.deletedRows
        }
        if health == nil && countsRows {
            let files: SnapshotFiles
            do {
                files = try await TableInspection(table: table).files(of: snapshot, filters: Self.filters(columns: columns, partitions: scope.partitions, scope: scope))
            } catch {
                throw ParityCheckError("table \(table.identifier), snapshot \(snapshot.snapshotId): reading manifests: \(error)")
            }
            let scanned = !scope.filtersRows && scope.partitions == nil
            health = TableHealthAssessment.assess(table, snapshot: snapshot, files: files,
                                                  rows: scanned ? (read: rowsRead, nullKeys: nullKeyRows, deleted: deletedRows) : nil,
                                                  nullKeyRows: nullKeyRows)
        }
    }

    /// The scan's pruning ranges: the Kafka partition numbers asked for (as one range), the time window, and the
    /// offsets an `--offsets` scope spans (over all its partitions: a file's offset bounds are over all its rows).
    static func filters(columns: BronzeColumns, partitions: Set<Int32>?, scope: ParityScope) -> [ColumnRange] {
        var filters: [ColumnRange] = []
        if let partitions, let low = partitions.min(), let high = partitions.max() {
            filters.append(ColumnRange(column: columns.partition.name, lower: .int(low), upper: .int(high)))
        }
        if scope.filtersTime {
            let isZoned = columns.kafkaTimestamp.type == .timestamptz
            func value(_ micros: Int64?) -> IcebergValue? { micros.map { isZoned ? .timestamptz($0) : .timestamp($0) } }
            filters.append(ColumnRange(column: columns.kafkaTimestamp.name, lower: value(scope.sinceMicros),
                                       upper: value(scope.untilMicros.map { $0 - 1 })))
        }
        if let bounds = scope.offsets?.offsetBounds, bounds.lower != nil || bounds.upper != nil {
            filters.append(ColumnRange(column: columns.offset.name, lower: bounds.lower.map { .long($0) }, upper: bounds.upper.map { .long($0) }))
        }
        return filters
    }

    /// RFC 3339 in UTC with milliseconds, as the report's other times.
    static func rfc3339(millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
