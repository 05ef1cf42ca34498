import Foundation
import Iceberg

/// Appends Bronze rows to one Iceberg table in commits that carry the replay's progress.
///
/// Rows are staged per ingestion date in small column batches and handed to the Iceberg module's
/// `DataFileWriter`, which rolls a data file per partition at the table's target file size. `commit()`
/// appends every file written since the last commit as one snapshot whose summary, and the table properties
/// of the run, record the progress (`BronzeReplayProgress`), so the table holds a row exactly when the
/// progress says so.
///
/// Callers add the rows of a source record, then `markDone` its position, and commit only between records.
/// One thread appends (`writeStaged` hands rows to a task that touches none of the appender's state): the
/// per-row state is `@exclusivity(unchecked)`, sparing the runtime's dynamic access check per row.
public final class BronzeTableAppender {
    public let catalog: any Catalog
    public private(set) var table: Table
    public let style: BronzeTableStyle
    public private(set) var progress: BronzeReplayProgress
    /// When false nothing is written: the rows and files are only counted (`--dry-run`).
    public let writes: Bool
    private let columnOrder: [String]
    private let ids: BronzeColumnIds
    private var fileWriter: DataFileWriter
    /// Staged rows per ingestion date; `lastBatch` is where the previous row went (rows come in time order,
    /// so nearly every row goes to the same batch as the one before).
    @exclusivity(unchecked) private var batches: [BronzeRowBatch] = []
    @exclusivity(unchecked) private var lastBatch = 0
    private let millisecondTimestamps: Bool
    /// The rows handed to the file writer last, being written; yields their batches emptied for reuse.
    private var writing: Task<[BronzeRowBatch], Error>?
    private var spareBatches: [BronzeRowBatch] = []
    /// Staged bytes per batch before it goes to the file writer.
    private let stageBytes = 4 << 20
    @exclusivity(unchecked) public private(set) var rowsBuffered = 0
    public private(set) var rowsCommitted: Int64 = 0
    public private(set) var filesCommitted = 0
    public private(set) var commits = 0
    /// For `--dry-run`: rows and estimated bytes per ingestion date (a short list searched from the last day
    /// used, like `batches`: no hashing per row).
    @exclusivity(unchecked) private var planned: [(day: Int32, rows: Int, bytes: Int)] = []
    @exclusivity(unchecked) private var lastPlanned = 0
    public var plannedRows: [Int32: Int] { Dictionary(planned.map { ($0.day, $0.rows) }, uniquingKeysWith: +) }
    public var plannedBytes: [Int32: Int] { Dictionary(planned.map { ($0.day, $0.bytes) }, uniquingKeysWith: +) }
    /// How many times an append is started over when FastAppend gives up on conflicts.
    public var maxCommitRounds = 20
    /// Extra snapshot-summary keys for every commit.
    public var extraSummary: [String: String] = [:]

    /// - Parameter progress: where the run stands (`BronzeReplayProgress.latest` or a fresh one).
    public init(catalog: any Catalog, table: Table, style: BronzeTableStyle, progress: BronzeReplayProgress, writes: Bool = true) throws {
        self.catalog = catalog
        self.table = table
        self.style = style
        self.progress = progress
        self.writes = writes
        ids = try style.checkSchema(of: table)
        columnOrder = table.metadata.currentSchema.fields.map(\.name)
        fileWriter = try DataFileWriter(table: table)
        offsetRequired = table.metadata.currentSchema.field(named: "offset")?.required ?? false
        millisecondTimestamps = style.millisecondTimestamps
    }

    public var targetFileSize: Int64 { Int64(fileWriter.targetFileSize) }

    /// Whether the table demands an offset in every row (fixed at init: commits keep the checked schema).
    public let offsetRequired: Bool

    /// Whether staged rows wait to go to the file writer (`writeStaged()`).
    @exclusivity(unchecked) public private(set) var hasFullBatches = false

    /// Adds one row. Timestamps are microseconds since the epoch (UTC); a Flink-style table keeps them to the
    /// millisecond, as Flink's `TIMESTAMP(3)` does. The ingestion date is the UTC day of the ingestion time.
    public func append(rawBytes: UnsafeRawBufferPointer, topic: String, partition: Int32, offset: Int64?,
                       kafkaTimestampMicros: Int64, ingestionTimestampMicros: Int64) throws {
        var kafkaTime = kafkaTimestampMicros
        var ingestionTime = ingestionTimestampMicros
        if millisecondTimestamps {
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
            if lastPlanned >= planned.count || planned[lastPlanned].day != day {
                lastPlanned = planned.firstIndex { $0.day == day } ?? planned.count
                if lastPlanned == planned.count { planned.append((day, 0, 0)) }
            }
            planned[lastPlanned].rows += 1
            planned[lastPlanned].bytes += rawBytes.count + topic.utf8.count + 32
            return
        }
        let index = batchIndex(day)
        batches[index].append(rawBytes: rawBytes, topic: topic, partition: partition, offset: offset,
                              kafkaTimestampMicros: kafkaTime, ingestionTimestampMicros: ingestionTime)
        if batches[index].estimatedBytes >= stageBytes { hasFullBatches = true }
    }

    @inline(__always)
    private func batchIndex(_ day: Int32) -> Int {
        if lastBatch < batches.count, batches[lastBatch].ingestionDate == day { return lastBatch }
        if let found = batches.firstIndex(where: { $0.ingestionDate == day }) {
            lastBatch = found
        } else {
            batches.append(BronzeRowBatch(ingestionDate: day))
            lastBatch = batches.count - 1
        }
        return lastBatch
    }

    /// Hands the staged rows to the data file writer (which rolls files at the target size). The writer
    /// encodes and compresses them on another thread while the caller stages the next rows; this waits only
    /// for the previous hand-off. `commit()` waits for all of them before it commits.
    public func writeStaged() async throws {
        try await waitForWriter()
        let work = HandOff()
        for index in batches.indices.sorted(by: { batches[$0].ingestionDate < batches[$1].ingestionDate })
        where !batches[index].isEmpty {
            let day = batches[index].ingestionDate
            let partition = try table.metadata.defaultSpec.partition(of: [ids.ingestionDate: .date(day)])
            // The rows move to the writer; an emptied batch from the previous hand-off takes their place.
            var next = spareBatches.popLast() ?? BronzeRowBatch(ingestionDate: day)
            next.reuse(for: day)
            swap(&next, &batches[index])
            work.items.append((partition, next))
        }
        hasFullBatches = false
        guard !work.items.isEmpty else { return }
        let writer = fileWriter
        let order = columnOrder
        writing = Task.detached {
            var emptied: [BronzeRowBatch] = []
            for index in work.items.indices {
                // Moved out of the hand-off, so this is the only reference to the batch's buffers: emptying it
                // keeps their capacity for the rows after next (no fresh arrays, no page faults per hand-off).
                var batch = BronzeRowBatch(ingestionDate: 0)
                swap(&batch, &work.items[index].batch)
                try await writer.write(batch.columns(order: order), partition: work.items[index].partition)
                batch.removeAll()
                emptied.append(batch)
            }
            return emptied
        }
    }

    /// The batches of one hand-off, owned by the writing task alone once handed over.
    private final class HandOff: @unchecked Sendable {
        var items: [(partition: [IcebergValue?], batch: BronzeRowBatch)] = []
    }

    /// Waits until the file writer has taken every row handed to it (rethrowing its error).
    private func waitForWriter() async throws {
        guard let task = writing else { return }
        writing = nil
        spareBatches += try await task.value
    }

    /// Records that everything of a source position up to `position` is in the buffered rows.
    public func markDone(_ key: String, _ position: Int64) {
        progress.done[key] = position
    }

    /// Fixes where the run ends for a position key (first start only; reruns keep the first value).
    public func fixEnd(_ key: String, _ position: Int64) {
        if progress.end[key] == nil { progress.end[key] = position }
    }

    /// Writes the buffered rows and commits them with the progress recorded so far (nothing when no rows
    /// are buffered: the progress of a run is only ever recorded together with rows).
    public func commit() async throws {
        guard writes else {
            rowsCommitted += Int64(rowsBuffered)
            commits += rowsBuffered > 0 ? 1 : 0
            rowsBuffered = 0
            return
        }
        try await writeStaged()
        try await waitForWriter()
        let files = try await fileWriter.finish()
        fileWriter = try DataFileWriter(table: table)
        guard !files.isEmpty else { return }
        var next = progress
        next.rows += Int64(rowsBuffered)
        next.commits += 1
        var summary = extraSummary
        for (key, value) in next.summary() { summary[key] = value }
        // The same figures as table properties of this run, set by the same commit: they survive the
        // expiry of this run's snapshots (see BronzeReplayProgress).
        let properties = next.properties()
        let runId = progress.runId
        let basedOn = progress.commits
        let validate: @Sendable (Table) throws -> Void = { reloaded in
            // Another process committed for this very run since we read the progress: our rows may
            // overlap its rows. Stop rather than write them twice. (The run's commit number identifies a
            // recorded progress wherever it was read from.)
            let latest = try BronzeReplayProgress.latest(in: reloaded, runId: runId)
            if (latest?.commits ?? 0) != basedOn {
                throw BronzeTableError.unsupported("table \(reloaded.identifier): the progress of this replay (run \(runId)) is at "
                    + "commit \(latest.map { String($0.commits) } ?? "none"), not \(basedOn) as when this process read it: another "
                    + "replay with the same arguments committed while this one ran; stop one of them and rerun")
            }
        }
        // Writers of other shares commit to the same table all the time; FastAppend retries a conflict a
        // few times, and when a busy table wears those out the append starts over on a fresh load (the
        // data files stay valid), after a longer random pause so the writers fall out of step.
        var updated: Table?
        var rounds = 0
        while updated == nil {
            do {
                updated = try await FastAppend(catalog: catalog).commit(table: table, files: files, summary: summary,
                                                                      properties: properties, validate: validate)
            } catch IcebergError.commitConflict(let name, let message) {
                rounds += 1
                guard rounds < maxCommitRounds else {
                    throw IcebergError.commitConflict(table: name, message: "\(message); \(rounds) rounds")
                }
                try await Task.sleep(nanoseconds: UInt64.random(in: 20_000_000...200_000_000))
                table = try await catalog.loadTable(table.identifier)
                try validate(table)
            }
        }
        table = updated!
        next.snapshotId = table.metadata.currentSnapshotId
        progress = next
        rowsCommitted += Int64(rowsBuffered)
        filesCommitted += files.count
        commits += 1
        rowsBuffered = 0
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
