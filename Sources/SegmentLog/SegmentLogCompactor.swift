import Codecs
import Foundation

/// What `k2-compact` does to a log: expire, merge, recompress, de-duplicate. See docs/segment-format.md,
/// "Compaction protocol", for the crash-safety argument.
public struct CompactionOptions: Sendable {
    /// Output segments roll at this size; sealed segments smaller than it are merged.
    public var targetSegmentBytes: Int64 = 256 << 20
    /// Output codec. When set, segments holding blocks of another codec or level are rewritten too.
    public var codec: CompressionCodec? = nil
    /// Output block size (uncompressed). Cold segments compress better in larger blocks.
    public var blockBytes: Int = 256 * 1024
    /// Duplicate look-back in receive time; nil disables de-duplication.
    public var dedupWindowNanos: Int64? = 300 * 1_000_000_000
    /// Sealed segments whose newest record is older than this are deleted.
    public var deleteBeforeNanos: Int64? = nil
    /// Rewrite every sealed segment (e.g. to de-duplicate segments that are already big).
    public var rewriteAll = false
    public var dryRun = false
    public init() {}
}

public struct CompactionReport: Codable, Sendable {
    public var directory: String
    public var dryRun: Bool
    public var inputSegments: [String] = []
    public var expiredSegments: [String] = []
    public var outputSegments: [String] = []
    public var untouchedSegments: [String] = []
    public var unsealedSegments: [String] = []
    public var recordsRead = 0
    public var recordsWritten = 0
    public var recordsExpired = 0
    public var duplicatesRemoved = 0
    public var duplicatesByRule: [String: Int] = [:]
    public var bytesBefore: Int64 = 0
    public var bytesAfter: Int64 = 0
    public var notes: [String] = []

    /// snake_case in JSON, as every report of the toolkit.
    enum CodingKeys: String, CodingKey {
        case directory
        case dryRun = "dry_run"
        case inputSegments = "input_segments"
        case expiredSegments = "expired_segments"
        case outputSegments = "output_segments"
        case untouchedSegments = "untouched_segments"
        case unsealedSegments = "unsealed_segments"
        case recordsRead = "records_read"
        case recordsWritten = "records_written"
        case recordsExpired = "records_expired"
        case duplicatesRemoved = "duplicates_removed"
        case duplicatesByRule = "duplicates_by_rule"
        case bytesBefore = "bytes_before"
        case bytesAfter = "bytes_after"
        case notes
    }

    /// Every rule's count under its snake_case name (`trade_id`, `kafka_offset`, `identical_bytes`), zeros
    /// included, so the object's keys are fixed and a script never meets a missing key.
    public var duplicatesPerRuleKey: [String: Int] {
        var counts: [String: Int] = [:]
        for rule in Deduplicator.Rule.allCases { counts[rule.key] = duplicatesByRule[rule.rawValue] ?? 0 }
        return counts
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(directory, forKey: .directory)
        try container.encode(dryRun, forKey: .dryRun)
        try container.encode(inputSegments, forKey: .inputSegments)
        try container.encode(expiredSegments, forKey: .expiredSegments)
        try container.encode(outputSegments, forKey: .outputSegments)
        try container.encode(untouchedSegments, forKey: .untouchedSegments)
        try container.encode(unsealedSegments, forKey: .unsealedSegments)
        try container.encode(recordsRead, forKey: .recordsRead)
        try container.encode(recordsWritten, forKey: .recordsWritten)
        try container.encode(recordsExpired, forKey: .recordsExpired)
        try container.encode(duplicatesRemoved, forKey: .duplicatesRemoved)
        try container.encode(duplicatesPerRuleKey, forKey: .duplicatesByRule)
        try container.encode(bytesBefore, forKey: .bytesBefore)
        try container.encode(bytesAfter, forKey: .bytesAfter)
        try container.encode(notes, forKey: .notes)
    }
}

public enum SegmentLogCompactor {
    /// Runs one compaction (after finishing or rolling back an interrupted one). Holds the log's lock throughout.
    /// `progress` is called with the records read so far and the records the inputs hold (from their
    /// indexes) every few thousand records and once at the end of the rewrite: a program prints it, the
    /// engine does not.
    public static func compact(directory: String, options: CompactionOptions,
                               diagnostics: @escaping (String) -> Void,
                               progress: @escaping (_ recordsRead: Int, _ plannedRecords: Int) -> Void = { _, _ in }) throws -> CompactionReport {
        try compact(directory: directory, options: options, diagnostics: diagnostics, progress: progress, step: { _ in })
    }

    /// `step` is called at each point of the protocol (tests stop there, as a kill -9 would).
    static func compact(directory: String, options: CompactionOptions, diagnostics: @escaping (String) -> Void,
                        progress: @escaping (Int, Int) -> Void = { _, _ in },
                        step: @escaping SegmentDirectory.StepHook) throws -> CompactionReport {
        var report = CompactionReport(directory: directory, dryRun: options.dryRun)
        guard FileManager.default.fileExists(atPath: directory) else {
            throw SegmentLogError(.io, file: directory, "no such log directory")
        }
        let lock = try DirectoryLock(directory: directory, holder: "k2-compact")
        defer { lock.release() }
        let note: (String) -> Void = { report.notes.append($0); diagnostics($0) }
        if !options.dryRun { try SegmentDirectory.recover(directory, diagnostics: note, step: step) }

        // Plan.
        let codec = try options.codec.map { try SegmentFormat.codecByte($0) }
        var inputs: [SegmentDirectory.Entry] = []
        var expired: [SegmentDirectory.Entry] = []
        var maxId: UInt64 = 0
        var small: [(SegmentDirectory.Entry, needsRewrite: Bool)] = []
        // Each stream's highest sequence ever: the marks already kept, raised by every segment present (the ones
        // this run deletes or rewrites included), so that removing a stream's newest records never lowers where
        // its writer continues.
        var highWater = try SequenceHighWater.read(directory)
        for entry in try SegmentDirectory.segments(directory) {
            maxId = max(maxId, entry.id)
            let file = try SegmentFile.openRead(entry.path)
            let info = try SegmentScanner.scan(file: file, id: entry.id, verifyPayloads: false, lenient: false, diagnostics: diagnostics)
            for block in info.blocks { highWater.raise(block.key, to: block.lastSequence) }
            let name = (entry.path as NSString).lastPathComponent
            report.bytesBefore += info.fileSize
            guard info.sealed else {
                report.unsealedSegments.append(name)
                note("\(entry.path): unsealed (a live or crashed writer's); left alone — open the log with a writer to recover it")
                report.bytesAfter += info.fileSize
                continue
            }
            if let before = options.deleteBeforeNanos, let newest = info.blocks.map(\.maxTime).max(), newest < before {
                expired.append(entry)
                report.recordsExpired += info.blocks.reduce(0) { $0 + Int($1.recordCount) }
                continue
            }
            var recompress = false
            if let (byte, level) = codec {
                var scratch: [UInt8] = []
                for block in info.blocks {
                    guard let header = try SegmentScanner.validBlock(file: file, at: block.offset, end: info.dataEnd, verifyPayload: false, buffer: &scratch) else {
                        throw SegmentLogError.corrupt(entry.path, block.offset, "invalid block header (run k2-compact --check)")
                    }
                    if header.codecByte != byte || header.codecLevel != level { recompress = true; break }
                }
            }
            if options.rewriteAll || recompress || info.fileSize < options.targetSegmentBytes {
                small.append((entry, options.rewriteAll || recompress))
            } else {
                report.untouchedSegments.append(name)
                report.bytesAfter += info.fileSize
            }
        }
        if small.count == 1 && !small[0].needsRewrite {
            // One small segment alone: nothing to merge it with.
            report.untouchedSegments.append((small[0].0.path as NSString).lastPathComponent)
            report.bytesAfter += try SegmentFile.openRead(small[0].0.path).size()
        } else {
            inputs = small.map(\.0)
        }
        report.inputSegments = inputs.map { ($0.path as NSString).lastPathComponent }
        report.expiredSegments = expired.map { ($0.path as NSString).lastPathComponent }
        if inputs.isEmpty && expired.isEmpty { return report }

        // Rewrite the inputs into temporary segments.
        var writerOptions = SegmentLogWriterOptions()
        writerOptions.codec = options.codec ?? .zstd(level: 3)
        writerOptions.blockBytes = options.blockBytes
        writerOptions.segmentBytes = options.targetSegmentBytes
        writerOptions.segmentSeconds = Int64.max / 2_000_000_000
        writerOptions.fsync = .never   // each output is fsynced when sealed, the directory before the commit
        let writer = try SegmentSetWriter(directory: directory, options: writerOptions, nameSuffix: SegmentFormat.temporarySuffix,
                                          firstSegmentId: maxId + 1, lastSequences: [:])
        // A compaction that fails before it commits (ENOSPC, EIO, a corrupt input) removes its temporaries now
        // instead of leaving them for the next run; once the intent exists they are the log and stay. A test that
        // stops the protocol at a step leaves the directory as a kill -9 there would: no cleanup then.
        var succeeded = false, stoppedAtStep = false
        let stepHook: SegmentDirectory.StepHook = { point in
            do { try step(point) } catch { stoppedAtStep = true; throw error }
        }
        defer {
            if !succeeded && !stoppedAtStep && !options.dryRun
                && !FileManager.default.fileExists(atPath: SegmentDirectory.intentPath(directory)) {
                writer.abandon()
                try? SegmentDirectory.remove(SequenceHighWater.path(directory) + SegmentFormat.temporarySuffix)
                try? SegmentDirectory.remove(SegmentDirectory.intentPath(directory) + SegmentFormat.temporarySuffix)
            }
        }
        var dedup = options.dedupWindowNanos.map { Deduplicator(window: $0) }
        if !inputs.isEmpty {
            let reader = try SegmentLogReader(segments: inputs, selection: .all, skipCorrupt: false, diagnostics: diagnostics)
            let planned = reader.plannedRecordCount
            while let record = try reader.next() {
                report.recordsRead += 1
                if report.recordsRead & 4095 == 0 { progress(report.recordsRead, planned) }
                if let rule = dedup?.duplicate(record) {
                    report.duplicatesRemoved += 1
                    report.duplicatesByRule[rule.rawValue, default: 0] += 1
                    continue
                }
                report.recordsWritten += 1
                if options.dryRun { continue }
                let block = writer.block(source: record.source, stream: record.stream)
                try writer.append(record, sequence: record.sequence, to: block)
            }
            progress(report.recordsRead, planned)
            if reader.statistics.tornTails > 0 {
                throw SegmentLogError(.corrupt, file: directory, "a sealed input segment ended early; nothing was changed")
            }
        }
        if options.dryRun { return report }
        try writer.seal()
        try stepHook(.outputsSealed)
        try highWater.prepare(directory: directory)
        try stepHook(.highWaterPrepared)
        try syncDirectory(directory)
        report.outputSegments = writer.createdNames
        for name in writer.createdNames {
            report.bytesAfter += try SegmentFile.openRead(directory + "/" + name + SegmentFormat.temporarySuffix).size()
        }

        // Commit, then finish (the same code a restarted writer or k2-compact runs).
        let old = (expired + inputs).map { ($0.path as NSString).lastPathComponent }
        try SegmentDirectory.commit(.init(old: old, new: writer.createdNames, highWater: SequenceHighWater.fileName),
                                    directory: directory, step: stepHook)
        try SegmentDirectory.recover(directory, diagnostics: { _ in }, step: stepHook)
        succeeded = true
        return report
    }
}
