import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Per stream, the highest sequence the log has ever held: `<log>/sequences.high-water`.
///
/// Why: a replay resumes by sequence ("stream S done up to N"). When `k2-compact` expires or de-duplicates a
/// stream's newest records, the segments alone no longer show how far the stream went, and a writer reopening
/// the log would number new records from a lower value again — a rerun of the replay would then skip them as
/// done. So compaction records each stream's highest sequence here before it removes anything, and a writer
/// continues every stream at `max(high-water, highest sequence in the segments) + 1`.
///
/// Crash safety: only `k2-compact` writes it, under the log's lock, as part of the compaction intent — prepared
/// as `sequences.high-water.tmp` (written, `fdatasync`ed) before the intent commits, renamed into place by the
/// intent's roll-forward (`SegmentDirectory.recover`), rolled back (deleted) with every other temporary when the
/// intent never committed. While the old segments exist they show the old highs themselves; by the time any of
/// them is deleted, the file holding those highs is committed. Readers ignore it.
struct SequenceHighWater: Equatable {
    static let fileName = "sequences.high-water"
    static let version = 1

    private(set) var sequences: [StreamKey: UInt64] = [:]

    init(sequences: [StreamKey: UInt64] = [:]) { self.sequences = sequences }

    static func path(_ directory: String) -> String { directory + "/" + fileName }

    /// Raises `key`'s high-water mark to `sequence` (never lowers it).
    mutating func raise(_ key: StreamKey, to sequence: UInt64) {
        if sequence > sequences[key] ?? 0 { sequences[key] = sequence }
    }

    /// The file's content, or an empty map when the log has none (never compacted, or written before the file
    /// existed). An unreadable file is an error: guessing lower marks could reuse sequences.
    static func read(_ directory: String) throws -> SequenceHighWater {
        let path = path(directory)
        guard let data = FileManager.default.contents(atPath: path) else {
            guard !FileManager.default.fileExists(atPath: path) else {
                throw SegmentLogError(.io, file: path, "cannot read the sequence high-water file")
            }
            return SequenceHighWater()
        }
        let file: Document
        do {
            file = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            // Written to a temporary name, fsynced and renamed: a partial file cannot appear.
            throw SegmentLogError(.corrupt, file: path, "unreadable sequence high-water file: \(error)")
        }
        guard file.version == version else {
            throw SegmentLogError(.corrupt, file: path, "sequence high-water file version \(file.version) (this program reads \(version))")
        }
        var result = SequenceHighWater()
        for entry in file.streams {
            // A writer continues at mark + 1: the largest sequence there is leaves no next one (and no log holds
            // 2^64 records), so such a mark is damage, refused before any arithmetic on it.
            guard entry.sequence < UInt64.max else {
                let digits = Data(String(entry.sequence).utf8)
                let offset = data.range(of: digits).map { Int64(data.distance(from: data.startIndex, to: $0.lowerBound)) }
                throw SegmentLogError(.corrupt, file: path, offset: offset, """
                    stream \(entry.source)/\(entry.stream): high-water mark \(entry.sequence) is the largest sequence there \
                    is, so no record could follow it; the file is damaged: restore it from a backup, or set the mark to \
                    the stream's highest sequence (`k2-compact <log> --check` lists them)
                    """)
            }
            result.raise(StreamKey(source: entry.source, stream: entry.stream), to: entry.sequence)
        }
        return result
    }

    /// Writes the marks to `sequences.high-water.tmp` and `fdatasync`s it; the caller fsyncs the directory and
    /// commits the intent that names it. Requires the directory lock (no temporaries left: `recover` ran).
    func prepare(directory: String) throws {
        let temp = SequenceHighWater.path(directory) + SegmentFormat.temporarySuffix
        let document = Document(version: SequenceHighWater.version, streams: sequences.keys.sorted().map {
            Document.Stream(source: $0.source, stream: $0.stream, sequence: sequences[$0]!)
        })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(document)
        let file = try SegmentFile.create(temp)
        do {
            try data.withUnsafeBytes { try file.write($0, at: 0) }
            try file.sync()
        } catch {
            file.close()
            try? SegmentDirectory.remove(temp)   // a failed write (ENOSPC) leaves no temporary behind
            throw error
        }
        file.close()
    }

    /// Roll-forward: renames a prepared `.tmp` over the current file. Idempotent: when the temporary is gone the
    /// rename already happened (the intent is deleted only after it).
    static func publish(directory: String) throws {
        let final = path(directory), temp = final + SegmentFormat.temporarySuffix
        if FileManager.default.fileExists(atPath: temp) {
            guard rename(temp, final) == 0 else {
                throw SegmentLogError(.io, file: temp, "cannot rename into place: \(errnoText())")
            }
        } else if !FileManager.default.fileExists(atPath: final) {
            throw SegmentLogError(.corrupt, file: final, "sequence high-water file named by the compaction intent is missing")
        }
    }

    /// The JSON layout: `{"version":1,"streams":[{"source":…,"stream":…,"sequence":N}, …]}`.
    private struct Document: Codable {
        struct Stream: Codable {
            var source: String
            var stream: String
            var sequence: UInt64
        }
        var version: Int
        var streams: [Stream]
    }
}
