import Foundation

/// A replay's resume point (docs/replay.md, "Resume without duplicates"): per target partition, the high
/// watermark before the first run produced anything there, how many of this replay's messages the delivery
/// reports acknowledged in it (a prefix of what the log sends to that partition) and the offset of the last.
/// It only says where to look: the resumed run checks the partition after `lastOffset` itself.
struct ReplayCheckpoint: Codable, Equatable {
    struct Partition: Codable, Equatable {
        var topic: String
        var partition: Int32
        /// The high watermark seen at the first run's start, before it produced.
        var startOffset: Int64
        /// This replay's messages acknowledged in the partition.
        var delivered: Int
        /// Offset of the last acknowledged one; -1 when none.
        var lastOffset: Int64

        enum CodingKeys: String, CodingKey {
            case topic, partition, delivered
            case startOffset = "start_offset", lastOffset = "last_offset"
        }

        var target: TopicPartition { TopicPartition(topic: topic, partition: partition) }
        /// Where this replay's unconfirmed messages, if any, begin.
        var firstUnconfirmedOffset: Int64 { delivered > 0 ? lastOffset + 1 : startOffset }
    }

    static let currentVersion = 1

    var version = ReplayCheckpoint.currentVersion
    var identity: ReplayIdentity
    var partitions: [Partition]
    /// When it was written (RFC 3339), for humans.
    var updated: String = ""
    /// Set by the write after the last delivery report of a run that replayed its whole selection.
    var complete = false
}

/// Reads and writes checkpoint files in the state directory, atomically: a temporary file in the same
/// directory, fsync, rename over the checkpoint, fsync of the directory. A crash leaves the old or the new
/// file, never a torn one.
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

    /// The checkpoint of this replay; nil when there is none (a fresh run). A file that cannot be read or
    /// parsed, or that belongs to another replay, is an error naming it: it is left as it is.
    func load(_ identity: ReplayIdentity) throws -> ReplayCheckpoint? {
        let path = path(for: identity)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let advice = "move it away to start a fresh replay (which would repeat what is already in Kafka) or restore it"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReplayError.unusable("checkpoint \(path): cannot be read; \(advice)")
        }
        let checkpoint: ReplayCheckpoint
        do {
            checkpoint = try JSONDecoder().decode(ReplayCheckpoint.self, from: data)
        } catch {
            throw ReplayError.unusable("checkpoint \(path): not a valid k2-replay checkpoint (\(Self.describe(error))); \(advice)")
        }
        guard checkpoint.version == ReplayCheckpoint.currentVersion else {
            throw ReplayError.unusable("checkpoint \(path): version \(checkpoint.version), this k2-replay reads \(ReplayCheckpoint.currentVersion)")
        }
        guard checkpoint.identity == identity else {
            throw ReplayError.unusable("checkpoint \(path): holds another replay's identity (\(checkpoint.identity.canonicalText.replacingOccurrences(of: "\u{0}", with: " "))); \(advice)")
        }
        var seen = Set<TopicPartition>()
        for partition in checkpoint.partitions {
            guard seen.insert(partition.target).inserted, partition.delivered >= 0, partition.startOffset >= 0,
                  partition.delivered == 0 || partition.lastOffset >= partition.startOffset else {
                throw ReplayError.unusable("checkpoint \(path): inconsistent entry for \(partition.target); \(advice)")
            }
        }
        return checkpoint
    }

    /// Writes `checkpoint` atomically (see the type's comment).
    func write(_ checkpoint: ReplayCheckpoint) throws {
        let path = path(for: checkpoint.identity)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ReplayError.unusable("state directory \(directory): \(error.localizedDescription)")
        }
        var stamped = checkpoint
        stamped.updated = ISO8601DateFormatter().string(from: Date())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(stamped) + [0x0A]
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.failure("create", temporary) }
        var ok = data.withUnsafeBytes { bytes -> Bool in
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
        guard ok else { errno = errorNumber; throw Self.failure("write", temporary) }
        guard rename(temporary, path) == 0 else { throw Self.failure("rename to \(path)", temporary) }
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
