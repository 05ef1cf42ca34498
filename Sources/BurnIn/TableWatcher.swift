import Foundation
import Histogram
import Iceberg
import Parquet

/// Watches one Bronze table: its row count from the current snapshot's summary (cheap, every second), and,
/// from the data files committed since the last look, each row's end-to-end latency (ingestion_timestamp
/// minus kafka_timestamp, in an HdrHistogram) and, per Kafka partition, the largest offset committed (which
/// bounds what a parity check can expect the table to hold). The sampling loop calls it; a check running beside
/// the loop reads `committedOffsets` (behind a lock).
final class TableWatcher: @unchecked Sendable {
    let table: BurnInTable
    private let identifier: TableIdentifier
    private(set) var rows: Int64 = 0
    private(set) var rowsAtStart: Int64?
    /// Latency (ms) of every row read, and of those read since `takeWindow()`.
    private(set) var latency = Histogram<UInt64>(highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: .three)
    private var window = Histogram<UInt64>(highestTrackableValue: 3_600_000, numberOfSignificantValueDigits: .three)
    /// Per partition, the largest offset committed: the writers commit a partition in offset order, so every
    /// offset below it is in the table too.
    private var committed: [Int32: Int64] = [:]
    private let committedLock = NSLock()
    var committedOffsets: [Int32: Int64] { committedLock.withLock { committed } }
    private var filesSeen = Set<String>()
    private var lastScannedSnapshot: Int64?
    /// The last time (seconds since the start) the row count changed.
    private(set) var lastGrowth: Double = 0

    init(table: BurnInTable) throws {
        self.table = table
        identifier = try TableIdentifier(table.name)
    }

    /// Reads the row count; nil table (not created yet): 0 rows.
    func refreshRows(_ catalog: any Catalog, at t: Double) async throws {
        let loaded: Table
        do {
            loaded = try await catalog.loadTable(identifier)
        } catch IcebergError.noSuchTable {
            if rowsAtStart == nil { rowsAtStart = 0 }
            return
        }
        let total = loaded.metadata.currentSnapshot.flatMap { Int64($0.summary["total-records"] ?? "") } ?? 0
        if rowsAtStart == nil { rowsAtStart = total }
        if total != rows { lastGrowth = t }
        rows = total
    }

    /// Rows this burn-in added.
    var rowsAdded: Int64 { rows - (rowsAtStart ?? 0) }

    /// Reads the data files committed since the last call: their latencies and Kafka timestamps.
    func scanNewFiles(_ catalog: any Catalog) async throws {
        let loaded: Table
        do { loaded = try await catalog.loadTable(identifier) } catch IcebergError.noSuchTable { return }
        guard let snapshot = loaded.metadata.currentSnapshot, snapshot.snapshotId != lastScannedSnapshot else { return }
        let schema = loaded.metadata.currentSchema
        guard let partition = schema.field(named: "partition"), let offset = schema.field(named: "offset"),
              let kafkaTime = schema.field(named: "kafka_timestamp"), let ingestion = schema.field(named: "ingestion_timestamp") else { return }
        let tasks = try await TableScan(table: loaded, snapshotId: snapshot.snapshotId).planFiles()
        let reader = try ScanReader(table: loaded)
        let firstScan = lastScannedSnapshot == nil && (rowsAtStart ?? 0) > 0
        for task in tasks where task.dataFile.content == .data && !filesSeen.contains(task.dataFile.filePath) {
            filesSeen.insert(task.dataFile.filePath)
            // Rows that were in the table before the burn-in are not its latency.
            if firstScan { continue }
            var largest: [Int32: Int64] = [:]
            try await reader.readRowGroups(task, fields: [partition, offset, kafkaTime, ingestion], schema: schema) { batch in
                guard case .values(let p) = batch.columns[0], case .int32(let partitions) = p.values,
                      case .values(let o) = batch.columns[1], case .int64(let offsets) = o.values,
                      case .values(let k) = batch.columns[2], case .int64(let kafka) = k.values,
                      case .values(let i) = batch.columns[3], case .int64(let ingested) = i.values else { return }
                for row in 0..<min(partitions.count, offsets.count, kafka.count, ingested.count) {
                    let ms = max(0, ingested[row] - kafka[row]) / 1000
                    _ = latency.record(UInt64(min(ms, 3_600_000)))
                    _ = window.record(UInt64(min(ms, 3_600_000)))
                    let key = partitions[row]
                    if offsets[row] > largest[key] ?? Int64.min { largest[key] = offsets[row] }
                }
            }
            committedLock.withLock { committed.merge(largest) { max($0, $1) } }
        }
        lastScannedSnapshot = snapshot.snapshotId
    }

    /// The p99 latency (ms) of the rows read since the last call; nil when none.
    func takeWindowP99() -> Double? {
        defer { window.reset() }
        return window.totalCount == 0 ? nil : Double(window.valueAtPercentile(99))
    }
}
