import Foundation
import K2Core

/// A replay's resume point (docs/replay.md, "Resume without duplicates"). Progress is kept per target
/// partition and log stream, because only each stream's messages to one partition come in a fixed order
/// (sequence, then trade index): on a log that is still growing, the rerun's time-merge of the streams may
/// interleave them differently than the first run did.
struct ReplayCheckpoint: Codable, Equatable {
    /// A message's place in its log stream: the record's sequence number and the trade's index within it.
    struct Point: Codable, Equatable, Comparable {
        var sequence: UInt64
        var trade: Int
        static func < (a: Point, b: Point) -> Bool { (a.sequence, a.trade) < (b.sequence, b.trade) }
    }

    /// One log stream's messages in one partition.
    struct StreamProgress: Codable, Equatable {
        var source: String
        var stream: String
        /// How many of them were acknowledged (by delivery report or found in the partition): a prefix.
        var delivered: Int
        /// The last acknowledged one; nil when none. The rerun skips every message of the stream up to it.
        var acknowledged: Point?
        /// The lowest offset where this stream's messages not counted here may be (the rerun looks for them
        /// in the partition from here on).
        var fromOffset: Int64
        /// Acknowledged messages from this one on may also lie at `fromOffset` or later (their exact offsets
        /// were not known): the rerun finds them there first, so that a later byte-identical message of the
        /// stream (two equal Kraken trades in one frame) is not taken for one of them. nil: none.
        var recheck: Point?

        enum CodingKeys: String, CodingKey {
            case source, stream, delivered, acknowledged, recheck
            case fromOffset = "from_offset"
        }
    }

    /// The partition's last acknowledged message (the highest offset), checked on resume against what Kafka
    /// holds at `offset` and against the log's message at that point.
    struct LastMessage: Codable, Equatable {
        var source: String
        var stream: String
        var at: Point
        var offset: Int64
    }

    struct Partition: Codable, Equatable {
        var topic: String
        var partition: Int32
        /// The high watermark seen at the first run's start, before it produced (for humans).
        var startOffset: Int64
        var streams: [StreamProgress]
        var last: LastMessage?

        enum CodingKeys: String, CodingKey {
            case topic, partition, streams, last
            case startOffset = "start_offset"
        }

        var target: TopicPartition { TopicPartition(topic: topic, partition: partition) }
    }

    /// `--from kafka://`: a source partition's range (`start..<end`), fixed by the first run so reruns read
    /// the same one whatever the watermarks say by then.
    struct SourceRange: Codable, Equatable {
        var start: Int64
        var end: Int64
    }

    static let currentVersion = 2

    var version = ReplayCheckpoint.currentVersion
    var identity: ReplayIdentity
    var partitions: [Partition]
    /// When it was written (RFC 3339), for humans.
    var updated: String = ""
    /// Set by the write after the last delivery report of a run that replayed its whole selection: nothing of
    /// this replay is in Kafka beyond what the streams' progress counts.
    var complete = false
    /// `--from kafka://` only: per source partition (`kafka:TOPIC/P`), the range this replay reads. Absent from
    /// replays of a log (and from checkpoints written before it existed: it is optional).
    var sourceRanges: [String: SourceRange]?

    enum CodingKeys: String, CodingKey {
        case version, identity, partitions, updated, complete
        case sourceRanges = "source_ranges"
    }
}

/// Reads and writes checkpoint files in the state directory, atomically: a uniquely named temporary file in
/// the same directory, fsync, rename over the checkpoint, fsync of the directory. A crash leaves the old or
/// the new file, never a torn one.
struct CheckpointStore {
    let directory: String

    /// `--state-dir`, else `$K2_STATE_DIR`, else `$XDG_STATE_HOME/k2-replay`, else `~/.local/state/k2-replay`.
    static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment["K2_STATE_DIR"], !dir.isEmpty { return dir }
        if let xdg = environment["XDG_STATE_HOME"], !xdg.isEmpty { return xdg + "/k2-replay" }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return home + "/.local/state/k2-replay"
    }

    func path(for identity: ReplayIdentity) -> String { directory + "/" + identity.checkpointFileName }

    /// Takes the replay's lock (`<checkpoint>.lock`, an exclusive `flock`) for the whole run: two runs of the
    /// same replay at once would both resume from the same point and duplicate what they produce.
    func lock(_ identity: ReplayIdentity) throws -> CheckpointLock {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ReplayError.unusable("state directory \(directory): \(error.localizedDescription)")
        }
        let path = path(for: identity)
        let lockPath = path + ".lock"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ReplayError.unusable("checkpoint \(path): cannot open the lock file \(lockPath): \(String(cString: strerror(errno)))") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno == EWOULDBLOCK ? "another k2-replay is running this replay (it holds \(lockPath)); wait for it to end or stop it"
                                              : "cannot lock \(lockPath): \(String(cString: strerror(errno)))"
            close(fd)
            throw ReplayError.unusable("checkpoint \(path): \(reason)")
        }
        return CheckpointLock(fd: fd)
    }

    /// The checkpoint of this replay; nil when there is none (a fresh run). A file that cannot be read or
    /// parsed, or that belongs to another replay, is an error naming it: it is left as it is.
    func load(_ identity: ReplayIdentity) throws -> ReplayCheckpoint? {
        let path = path(for: identity)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let advice = "move it away to start a fresh replay (which would repeat what is already in Kafka) or restore it"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReplayError.unusable("checkpoint \(path): cannot be read; \(advice)")
        }
        if let header = try? JSONDecoder().decode(VersionOnly.self, from: data), header.version != ReplayCheckpoint.currentVersion {
            throw ReplayError.unusable("checkpoint \(path): version \(header.version), this k2-replay reads \(ReplayCheckpoint.currentVersion); \(advice)")
        }
        let checkpoint: ReplayCheckpoint
        do {
            checkpoint = try JSONDecoder().decode(ReplayCheckpoint.self, from: data)
        } catch {
            throw ReplayError.unusable("checkpoint \(path): not a valid k2-replay checkpoint (\(Self.describe(error))); \(advice)")
        }
        guard checkpoint.identity == identity else {
            throw ReplayError.unusable("checkpoint \(path): holds another replay's identity (\(checkpoint.identity.canonicalText.replacingOccurrences(of: "\u{0}", with: " "))); \(advice)")
        }
        var seen = Set<TopicPartition>()
        for partition in checkpoint.partitions {
            var streams = Set<String>()
            let consistent = seen.insert(partition.target).inserted && partition.startOffset >= 0
                && partition.streams.allSatisfy { stream in
                    streams.insert(stream.source + "\u{0}" + stream.stream).inserted && stream.fromOffset >= 0
                        && (stream.delivered > 0) == (stream.acknowledged != nil)
                        && (stream.recheck == nil || (stream.acknowledged.map { stream.recheck! <= $0 } ?? false))
                }
                && (partition.last.map { $0.offset >= 0 } ?? true)
            guard consistent else {
                throw ReplayError.unusable("checkpoint \(path): inconsistent entry for \(partition.target); \(advice)")
            }
        }
        return checkpoint
    }

    private struct VersionOnly: Decodable { var version: Int }

    /// Writes `checkpoint` atomically (see the type's comment).
    func write(_ checkpoint: ReplayCheckpoint) throws {
        let path = path(for: checkpoint.identity)
        var stamped = checkpoint
        stamped.updated = RFC3339.format(epochSeconds: Int64(time(nil)))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(stamped) + [0x0A]
        // A unique name (mkstemp): a stale or concurrent temporary file is never written through.
        var template = Array((path + ".tmp.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw Self.failure("create a temporary file for", path) }
        let temporary = String(cString: template)
        var ok = fchmod(fd, 0o644) == 0
        ok = ok && data.withUnsafeBytes { bytes -> Bool in
            var done = 0
            while done < bytes.count {
                let written = Foundation.write(fd, bytes.baseAddress! + done, bytes.count - done)
                if written < 0 { if errno == EINTR { continue }; return false }
                done += written
            }
            return true
        }
        ok = ok && fsync(fd) == 0
        let errorNumber = errno
        close(fd)
        guard ok else { unlink(temporary); errno = errorNumber; throw Self.failure("write", temporary) }
        guard rename(temporary, path) == 0 else {
            let failure = Self.failure("rename to \(path)", temporary)
            unlink(temporary)
            throw failure
        }
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { throw Self.failure("open", directory) }
        defer { close(dirfd) }
        guard fsync(dirfd) == 0 else { throw Self.failure("fsync", directory) }
    }

    private static func failure(_ what: String, _ path: String) -> ReplayError {
        ReplayError.failed("checkpoint: cannot \(what) \(path): \(String(cString: strerror(errno)))")
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return "corrupt JSON" + Self.at(context)
        case DecodingError.keyNotFound(let key, let context): return "missing \(key.stringValue)" + Self.at(context)
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return context.debugDescription + Self.at(context)
        default: return "\(error)"
        }
    }

    private static func at(_ context: DecodingError.Context) -> String {
        context.codingPath.isEmpty ? "" : " at " + context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
    }
}

/// The held lock of one replay (see `CheckpointStore.lock`); released when the process ends or on `release`.
final class CheckpointLock {
    private var fd: Int32
    init(fd: Int32) { self.fd = fd }
    func release() {
        if fd >= 0 { close(fd) }
        fd = -1
    }
    deinit { release() }
}
