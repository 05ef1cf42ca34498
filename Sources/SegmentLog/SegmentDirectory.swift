import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The files of a log directory, and the compaction-intent protocol that keeps them consistent.
///
/// A compaction writes its new segments under `<name>.k2seg.tmp`, then atomically publishes
/// `compaction.intent` (the old and new names) and only then renames the new files into place and deletes the
/// old ones. Before the intent exists the log is the old segments; from the moment it exists the log is the new
/// ones. Writers and `k2-compact` finish a pending intent (`recover`); readers apply it logically (`segments`).
enum SegmentDirectory {
    struct Entry {
        var id: UInt64
        var path: String
    }

    struct Intent: Codable {
        var old: [String]
        var new: [String]
    }

    static func intentPath(_ directory: String) -> String { directory + "/" + SegmentFormat.intentName }

    static func readIntent(_ directory: String) throws -> Intent? {
        let path = intentPath(directory)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(Intent.self, from: data)
        } catch {
            // The intent is written to a temporary name, fsynced and renamed: a partial one cannot appear.
            throw SegmentLogError(.corrupt, file: path, "unreadable compaction intent: \(error)")
        }
    }

    /// The segments that make up the log now, as a reader sees it (a pending intent applied, temporaries ignored).
    static func segments(_ directory: String) throws -> [Entry] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw SegmentLogError(.io, file: directory, "cannot list the log directory: \(error.localizedDescription)")
        }
        var byId: [UInt64: String] = [:]
        for name in names {
            if let id = SegmentFormat.segmentId(fileName: name) { byId[id] = directory + "/" + name }
        }
        if let intent = try readIntent(directory) {
            for old in intent.old {
                if let id = SegmentFormat.segmentId(fileName: old) { byId[id] = nil }
            }
            for new in intent.new {
                guard let id = SegmentFormat.segmentId(fileName: new) else { continue }
                let final = directory + "/" + new
                if FileManager.default.fileExists(atPath: final) {
                    byId[id] = final
                } else if FileManager.default.fileExists(atPath: final + SegmentFormat.temporarySuffix) {
                    byId[id] = final + SegmentFormat.temporarySuffix
                } else {
                    throw SegmentLogError(.corrupt, file: final, "segment named by the compaction intent is missing")
                }
            }
        }
        return byId.keys.sorted().map { Entry(id: $0, path: byId[$0]!) }
    }

    /// Completes a pending compaction (rename new files into place, delete old ones) or rolls back an
    /// uncommitted one (delete its temporaries). Requires the directory lock.
    static func recover(_ directory: String, diagnostics: (String) -> Void) throws {
        let fm = FileManager.default
        if let intent = try readIntent(directory) {
            for new in intent.new {
                let final = directory + "/" + new, temp = final + SegmentFormat.temporarySuffix
                if !fm.fileExists(atPath: final) {
                    guard rename(temp, final) == 0 else {
                        throw SegmentLogError(.io, file: temp, "cannot rename into place: \(errnoText())")
                    }
                }
            }
            try syncDirectory(directory)
            for old in intent.old where !intent.new.contains(old) {
                let path = directory + "/" + old
                if fm.fileExists(atPath: path) { try remove(path) }
            }
            try syncDirectory(directory)
            try remove(intentPath(directory))
            try syncDirectory(directory)
            diagnostics("\(directory): finished a compaction that was interrupted after it committed (\(intent.old.count) old segments replaced by \(intent.new.count))")
        }
        // Anything temporary left now belongs to an uncommitted compaction: roll it back.
        var removed = 0
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where name.hasSuffix(SegmentFormat.temporarySuffix) {
            try remove(directory + "/" + name)
            removed += 1
        }
        if removed > 0 {
            try syncDirectory(directory)
            diagnostics("\(directory): removed \(removed) temporary files of a compaction that did not commit")
        }
    }

    /// Publishes an intent atomically: write to a temporary name, fsync, rename, fsync the directory.
    static func commit(_ intent: Intent, directory: String) throws {
        let path = intentPath(directory)
        let temp = path + SegmentFormat.temporarySuffix
        let data = try JSONEncoder().encode(intent)
        let file = try SegmentFile.create(temp)
        try data.withUnsafeBytes { try file.write($0, at: 0) }
        try file.sync()
        file.close()
        guard rename(temp, path) == 0 else { throw SegmentLogError(.io, file: temp, "cannot rename: \(errnoText())") }
        try syncDirectory(directory)
    }

    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw SegmentLogError(.io, file: path, "cannot delete: \(errnoText())")
        }
    }

    static func ensureDirectory(_ directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SegmentLogError(.io, file: directory, "cannot create the log directory: \(error.localizedDescription)")
        }
    }
}

/// An exclusive `flock` on `<log>/.lock`, held by the one writer (or `k2-compact`) of a log.
final class DirectoryLock {
    private var fd: Int32

    init(directory: String, holder: String) throws {
        let path = directory + "/" + SegmentFormat.lockName
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SegmentLogError(.io, file: path, "cannot open the lock file: \(errnoText())") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            Glibc.close(fd)
            fd = -1
            throw SegmentLogError(.locked, file: path, "another writer or k2-compact is using this log (\(holder) needs it alone)")
        }
    }

    func release() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { release() }
}
