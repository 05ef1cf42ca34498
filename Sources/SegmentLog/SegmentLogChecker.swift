import Foundation

/// `k2-compact --check`: verifies every segment's header, footer, index, block header and payload CRC, that
/// every block decompresses and decodes to what its header and index say, and counts what is there.
public struct CheckReport: Codable, Sendable {
    public struct StreamCount: Codable, Sendable {
        public var source: String
        public var stream: String
        public var records: Int
        public var firstSequence: UInt64
        public var lastSequence: UInt64

        enum CodingKeys: String, CodingKey {
            case source, stream, records
            case firstSequence = "first_sequence"
            case lastSequence = "last_sequence"
        }
    }
    public var directory: String
    public var segments = 0
    public var sealedSegments = 0
    public var unsealedSegments = 0
    public var blocks = 0
    public var records = 0
    public var bytes: Int64 = 0
    public var corruptBlocks = 0
    public var tornTails = 0
    public var streams: [StreamCount] = []
    /// Each problem names the file and byte offset.
    public var problems: [String] = []
    public var ok: Bool { problems.isEmpty }

    /// snake_case in JSON, as every report of the toolkit.
    enum CodingKeys: String, CodingKey {
        case directory, segments
        case sealedSegments = "sealed_segments"
        case unsealedSegments = "unsealed_segments"
        case blocks, records, bytes
        case corruptBlocks = "corrupt_blocks"
        case tornTails = "torn_tails"
        case streams, problems
    }
}

public enum SegmentLogChecker {
    /// `progress` is called after each segment with the bytes checked so far and the bytes of all segments
    /// listed: a program prints it, the checker does not.
    public static func check(directory: String, diagnostics: @escaping (String) -> Void,
                             progress: @escaping (_ bytesChecked: Int64, _ totalBytes: Int64) -> Void = { _, _ in }) throws -> CheckReport {
        guard FileManager.default.fileExists(atPath: directory) else {
            throw SegmentLogError(.io, file: directory, "no such log directory")
        }
        // Listed again when a compaction finishing meanwhile deleted a listed segment.
        return try SegmentDirectory.withStableSegments(directory) { entries in
            try check(directory: directory, entries: entries, diagnostics: diagnostics, progress: progress)
        }
    }

    private static func check(directory: String, entries: [SegmentDirectory.Entry],
                              diagnostics: @escaping (String) -> Void,
                              progress: (Int64, Int64) -> Void) throws -> CheckReport {
        var report = CheckReport(directory: directory)
        let totalBytes = entries.reduce(Int64(0)) { total, entry in
            total + (((try? FileManager.default.attributesOfItem(atPath: entry.path)[.size]) as? NSNumber)?.int64Value ?? 0)
        }
        var counts: [StreamKey: CheckReport.StreamCount] = [:]
        var ranges = SequenceRanges()
        for entry in entries {
            report.segments += 1
            let file = try SegmentDirectory.openListed(entry)
            report.bytes += try file.size()
            do {
                let info = try SegmentScanner.scan(file: file, id: entry.id, verifyPayloads: true, lenient: false, diagnostics: diagnostics)
                if info.sealed { report.sealedSegments += 1 } else { report.unsealedSegments += 1 }
                for block in info.blocks { ranges.add(block, path: entry.path) }
                if let header = info.header, header.segmentId != entry.id {
                    report.problems.append("\(entry.path) at byte offset 8: header says segment \(header.segmentId), file name says \(entry.id)")
                }
            } catch let error as SegmentLogError where error.kind == .corrupt {
                report.problems.append(error.description)
                report.unsealedSegments += 1
            }
            var messages: [String] = []
            let plan = try ReadPlan.make(segments: [entry], selection: .all, skipCorrupt: true)
            let reader = SegmentLogReader(plan: plan, selection: .all, skipCorrupt: true,
                                          diagnostics: { messages.append($0); diagnostics($0) })
            while let record = try reader.next() {
                let key = record.streamKey
                var c = counts[key] ?? .init(source: key.source, stream: key.stream, records: 0, firstSequence: record.sequence, lastSequence: record.sequence)
                c.records += 1
                c.firstSequence = min(c.firstSequence, record.sequence)
                c.lastSequence = max(c.lastSequence, record.sequence)
                counts[key] = c
            }
            let stats = reader.statistics
            report.blocks += stats.blocks
            report.records += stats.records
            report.corruptBlocks += stats.corruptBlocksSkipped
            report.tornTails += stats.tornTails
            for message in messages where message.contains("skipped") { report.problems.append(message) }
            progress(report.bytes, max(totalBytes, report.bytes))
        }
        // Each segment is read alone above; across segments a stream's sequences must not repeat.
        for overlap in ranges.overlaps() { report.problems.append(overlap.description) }
        report.streams = counts.keys.sorted().map { counts[$0]! }
        return report
    }
}
