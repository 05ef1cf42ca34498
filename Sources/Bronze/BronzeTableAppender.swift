import Foundation
import Iceberg

/// Appends Bronze rows to one Iceberg table in commits that carry the replay's progress.
///
/// Rows are buffered per ingestion date; a date's buffer becomes a data file when it reaches the table's
/// target file size (estimated from the compression ratio of the files written so far) or at a commit.
/// `commit()` appends every file written since the last commit as one snapshot whose summary records the
/// progress (`BronzeReplayProgress`), so the table holds a row exactly when the progress says so.
///
/// Callers add the rows of a source record, then `markDone` its position, and commit only between records.
public final class BronzeTableAppender {
    public let catalog: any Catalog
    public private(set) var table: Table
    public let style: BronzeTableStyle
    public private(set) var progress: BronzeReplayProgress
    /// When false nothing is written: the rows and files are only counted (`--dry-run`).
    public let writes: Bool
    private let fileWriter: BronzeDataFileWriter
    private var batches: [Int32: BronzeRowBatch] = [:]
    private var pendingFiles: [DataFile] = []
    /// Compressed file bytes per estimated row byte, learned from the files written.
    private var compressionRatio = 1.0
    public private(set) var rowsBuffered = 0
    public private(set) var rowsCommitted: Int64 = 0
    public private(set) var filesCommitted = 0
    public private(set) var commits = 0
    /// For `--dry-run`: rows and files per ingestion date.
    public private(set) var plannedRows: [Int32: Int] = [:]
    public private(set) var plannedFiles: [Int32: Int] = [:]
    /// Extra snapshot-summary keys for every commit.
    public var extraSummary: [String: String] = [:]

    /// - Parameter progress: where the run stands (`BronzeReplayProgress.latest` or a fresh one).
    public init(catalog: any Catalog, table: Table, style: BronzeTableStyle, progress: BronzeReplayProgress, writes: Bool = true) throws {
        self.catalog = catalog
        self.table = table
        self.style = style
        self.progress = progress
        self.writes = writes
        fileWriter = try BronzeDataFileWriter(table: table, style: style, ids: try style.checkSchema(of: table))
    }

    public var targetFileSize: Int64 { fileWriter.targetFileSize }

    /// Whether the table demands an offset in every row.
    public var offsetRequired: Bool {
        table.metadata.currentSchema.field(named: "offset")?.required ?? false
    }

    /// Adds one row. Timestamps are microseconds since the epoch (UTC); a Flink-style table keeps them to the
    /// millisecond, as Flink's `TIMESTAMP(3)` does. The ingestion date is the UTC day of the ingestion time.
    public func append(rawBytes: UnsafeRawBufferPointer, topic: String, partition: Int32, offset: Int64?,
                       kafkaTimestampMicros: Int64, ingestionTimestampMicros: Int64) throws {
        var kafkaTime = kafkaTimestampMicros
        var ingestionTime = ingestionTimestampMicros
        if style.millisecondTimestamps {
            kafkaTime = Self.floorDiv(kafkaTime, 1000) * 1000
            ingestionTime = Self.floorDiv(ingestionTime, 1000) * 1000
        }
        if offset == nil && offsetRequired {
            throw BronzeTableError.offsetRequired(table: table.identifier.description,
                detail: "this row (topic \(topic), partition \(partition)) has no Kafka offset")
        }
        let day = Int32(Self.floorDiv(ingestionTime, 86_400_000_000))
        rowsBuffered += 1
        if !writes {
            plannedRows[day, default: 0] += 1
        }
        if batches[day] == nil { batches[day] = BronzeRowBatch(ingestionDate: day) }
        batches[day]!.append(rawBytes: rawBytes, topic: topic, partition: partition, offset: offset,
                             kafkaTimestampMicros: kafkaTime, ingestionTimestampMicros: ingestionTime)
        if Double(batches[day]!.estimatedBytes) * compressionRatio >= Double(targetFileSize) {
            fullBatches.append(batches[day]!)
            batches[day] = nil
        }
    }

    /// Batches that reached the target file size, waiting for `writeFullBatches()`.
    private var fullBatches: [BronzeRowBatch] = []
    public var hasFullBatches: Bool { !fullBatches.isEmpty }

    /// Writes the batches that reached the target file size (their files join the next commit).
    public func writeFullBatches() async throws {
        let full = fullBatches
        fullBatches.removeAll()
        for batch in full { try await write(batch) }
    }

    /// Records that everything of a source position up to `position` is in the buffered rows.
    public func markDone(_ key: String, _ position: Int64) {
        progress.done[key] = position
    }

    /// Fixes where the run ends for a position key (first start only; reruns keep the first value).
    public func fixEnd(_ key: String, _ position: Int64) {
        if progress.end[key] == nil { progress.end[key] = position }
    }

    private func write(_ batch: BronzeRowBatch) async throws {
        let day = batch.ingestionDate
        guard !batch.isEmpty else { return }
        if writes {
            let file = try await fileWriter.write(batch)
            if batch.estimatedBytes > 0 { compressionRatio = max(0.05, Double(file.fileSizeInBytes) / Double(batch.estimatedBytes)) }
            pendingFiles.append(file)
        } else {
            plannedFiles[day, default: 0] += 1
        }
    }

    /// Writes the buffered rows and commits them with the progress recorded so far (nothing when no rows
    /// are buffered: the progress of a run is only ever recorded together with rows).
    public func commit() async throws {
        try await writeFullBatches()
        for day in batches.keys.sorted() { try await write(batches[day]!) }
        batches.removeAll()
        guard writes else {
            rowsCommitted += Int64(rowsBuffered)
            rowsBuffered = 0
            return
        }
        guard !pendingFiles.isEmpty else { return }
        var next = progress
        next.rows += Int64(rowsBuffered)
        next.commits += 1
        var summary = extraSummary
        for (key, value) in next.summary() { summary[key] = value }
        let files = pendingFiles
        let runId = progress.runId
        let basedOn = progress.snapshotId
        let validate: @Sendable (Table) throws -> Void = { reloaded in
            // Another process committed for this very run since we read the progress: our rows may
            // overlap its rows. Stop rather than write them twice.
            let latest = try BronzeReplayProgress.latest(in: reloaded, runId: runId)
            if latest?.snapshotId != basedOn {
                throw BronzeTableError.unsupported("table \(reloaded.identifier): another replay with the same arguments committed "
                    + "(snapshot \(latest?.snapshotId.map(String.init) ?? "?")) while this one ran; stop one of them and rerun")
            }
        }
        let updated = try await FastAppend(catalog: catalog).commit(table: table, files: files, summary: summary, validate: validate)
        table = updated
        next.snapshotId = updated.metadata.currentSnapshotId
        progress = next
        rowsCommitted += Int64(rowsBuffered)
        filesCommitted += files.count
        commits += 1
        rowsBuffered = 0
        pendingFiles.removeAll()
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
