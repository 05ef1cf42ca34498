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

    struct Intent: Codable, Equatable {
        var old: [String]
        var new: [String]
        /// `SequenceHighWater.fileName` when the compaction prepared a new high-water file (as `.tmp`) that the
        /// roll-forward renames into place; absent in intents of older versions.
        var highWater: String? = nil
    }

    /// Points of the compaction protocol, each reached once its effect is on disk. Tests stop a compaction at
    /// each of them (throwing from the hook leaves the directory exactly as a `kill -9` there would).
    enum Step: Equatable {
        case outputsSealed
        case highWaterPrepared
        case intentWritten
        case intentCommitted
        case highWaterPublished
        case outputRenamed(String)
        case oldDeleted(String)
        case intentDeleted
    }

    typealias StepHook = (Step) throws -> Void

    /// Points of a reader's listing, for tests that change the directory between them (a concurrent roll-forward).
    enum ListingStep: Equatable { case intentRead, listed, resolved }

    typealias ListingHook = (ListingStep) throws -> Void

    /// How often a reader lists the directory again when it changed under it before giving up.
    static let listingAttempts = 5

    /// Thrown while planning a read when the listing no longer describes the log (a listed segment vanished,
    /// or the segments overlap as a stale mixture of a compaction's old and new ones): list again. `error` is
    /// what to report when it keeps happening.
    struct ListingChanged: Error {
        var error: SegmentLogError
    }

    static func intentPath(_ directory: String) -> String { directory + "/" + SegmentFormat.intentName }

    static func readIntent(_ directory: String) throws -> Intent? {
        let path = intentPath(directory)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let intent: Intent
        do {
            intent = try JSONDecoder().decode(Intent.self, from: data)
        } catch {
            // The intent is written to a temporary name, fsynced and renamed: a partial one cannot appear.
            throw SegmentLogError(.corrupt, file: path, "unreadable compaction intent: \(error)")
        }
        if let name = intent.highWater, name != SequenceHighWater.fileName {
            throw SegmentLogError(.corrupt, file: path, "compaction intent names an unexpected high-water file '\(name)'")
        }
        // Rolling an intent forward renames and deletes the files it names: only segment files of this very
        // directory may be named, never a path that leads elsewhere.
        for name in intent.old + intent.new where name.contains("/") || SegmentFormat.segmentId(fileName: name) == nil {
            throw SegmentLogError(.corrupt, file: path, """
                compaction intent names '\(name)', which is not a segment file of this directory; nothing was renamed \
                or deleted (if no compaction is running, move the intent aside to read the log as it is)
                """)
        }
        return intent
    }

    /// The segments that make up the log now, as a reader sees it (a pending intent applied, temporaries ignored).
    ///
    /// The intent is read before and after the listing, and the listing repeated until both reads agree: a
    /// roll-forward (by `k2-compact` or a writer) renames the new segments into place, deletes the old ones and
    /// then the intent; a listing taken in between holds old and new segments together, and only the intent,
    /// present throughout, says which to ignore. (A whole roll-forward that falls between the two reads leaves
    /// both absent yet the listing mixed; its old segments are deleted by then, so opening them fails and the
    /// reader lists again — and any mixture whose files do open shows as overlapping sequences, `ReadPlan`.)
    static func segments(_ directory: String, hook: ListingHook? = nil) throws -> [Entry] {
        for _ in 0..<listingAttempts {
            if let entries = try snapshot(directory, hook: hook) { return entries }
        }
        throw SegmentLogError(.io, file: directory, "the log directory kept changing while it was listed (\(listingAttempts) attempts; a compaction finishing each time)")
    }

    /// One listing, or nil when the intent changed while it was taken.
    private static func snapshot(_ directory: String, hook: ListingHook?) throws -> [Entry]? {
        let fm = FileManager.default
        let before = try readIntent(directory)
        try hook?(.intentRead)
        let names: [String]
        do {
            names = try fm.contentsOfDirectory(atPath: directory)
        } catch {
            throw SegmentLogError(.io, file: directory, "cannot list the log directory: \(error.localizedDescription)")
        }
        try hook?(.listed)
        let intent = try readIntent(directory)
        guard intent == before else { return nil }
        var byId: [UInt64: String] = [:]
        for name in names {
            if let id = SegmentFormat.segmentId(fileName: name) {
                byId[id] = directory + "/" + name
            } else if name.hasSuffix("." + SegmentFormat.fileExtension) {
                // A file that looks like a segment but whose name is no segment id (20 digits that fit 64 bits)
                // would be left out of every read: say so instead of reading the log without it.
                throw SegmentLogError(.corrupt, file: directory + "/" + name, """
                    is named like a segment but '\(name.dropLast(SegmentFormat.fileExtension.count + 1))' is not a \
                    segment id (20 decimal digits up to 18446744073709551615); rename or move it
                    """)
            }
        }
        if let intent {
            for old in intent.old {
                if let id = SegmentFormat.segmentId(fileName: old) { byId[id] = nil }
            }
            for new in intent.new {
                guard let id = SegmentFormat.segmentId(fileName: new) else { continue }
                let final = directory + "/" + new, temp = final + SegmentFormat.temporarySuffix
                // Checked final, temporary, final: a rename between the first two checks is seen by the third.
                if fm.fileExists(atPath: final) {
                    byId[id] = final
                } else if fm.fileExists(atPath: temp) {
                    byId[id] = temp
                } else if fm.fileExists(atPath: final) {
                    byId[id] = final
                } else if try readIntent(directory) != intent {
                    return nil   // finished (and compacted again) meanwhile
                } else {
                    throw SegmentLogError(.corrupt, file: final, "segment named by the compaction intent is missing")
                }
            }
        }
        try hook?(.resolved)
        return byId.keys.sorted().map { Entry(id: $0, path: byId[$0]!) }
    }

    /// Runs `body` (which opens and plans the listed segments) over `segments(directory)`; when it finds the
    /// listing stale (`ListingChanged`: a listed segment vanished, or segments overlap), lists again, up to
    /// `listingAttempts` times, then reports the last problem.
    static func withStableSegments<T>(_ directory: String, hook: ListingHook? = nil,
                                      _ body: ([Entry]) throws -> T) throws -> T {
        var last: SegmentLogError?
        for _ in 0..<listingAttempts {
            do {
                return try body(try segments(directory, hook: hook))
            } catch let changed as ListingChanged {
                last = changed.error
            }
        }
        throw last!
    }

    /// Opens a listed segment for reading; a segment deleted since the listing is `ListingChanged`.
    static func openListed(_ entry: Entry) throws -> SegmentFile {
        guard let file = try SegmentFile.openReadIfPresent(entry.path) else {
            throw ListingChanged(error: SegmentLogError(.io, file: entry.path, "cannot open: the segment was deleted after the log directory was listed, at each of \(listingAttempts) attempts (compactions finishing one after another?)"))
        }
        return file
    }

    /// Completes a pending compaction (rename new files into place, delete old ones) or rolls back an
    /// uncommitted one (delete its temporaries). Requires the directory lock.
    static func recover(_ directory: String, diagnostics: (String) -> Void, step: StepHook = { _ in }) throws {
        let fm = FileManager.default
        if let intent = try readIntent(directory) {
            // The high-water file first: it must be in place before any old segment (the only other record of a
            // stream's highest sequence) is deleted.
            if intent.highWater != nil {
                try SequenceHighWater.publish(directory: directory)
                try step(.highWaterPublished)
            }
            for new in intent.new {
                let final = directory + "/" + new, temp = final + SegmentFormat.temporarySuffix
                if !fm.fileExists(atPath: final) {
                    guard rename(temp, final) == 0 else {
                        throw SegmentLogError(.io, file: temp, "cannot rename into place: \(errnoText())")
                    }
                    try step(.outputRenamed(new))
                }
            }
            try syncDirectory(directory)
            for old in intent.old where !intent.new.contains(old) {
                let path = directory + "/" + old
                if fm.fileExists(atPath: path) {
                    try remove(path)
                    try step(.oldDeleted(old))
                }
            }
            try syncDirectory(directory)
            try remove(intentPath(directory))
            try syncDirectory(directory)
            try step(.intentDeleted)
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
    static func commit(_ intent: Intent, directory: String, step: StepHook = { _ in }) throws {
        let path = intentPath(directory)
        let temp = path + SegmentFormat.temporarySuffix
        let data = try JSONEncoder().encode(intent)
        let file = try SegmentFile.create(temp)
        do {
            try data.withUnsafeBytes { try file.write($0, at: 0) }
            try file.sync()
        } catch {
            file.close()
            try? remove(temp)   // not committed: a failed write (ENOSPC) leaves no temporary behind
            throw error
        }
        file.close()
        try step(.intentWritten)
        guard rename(temp, path) == 0 else { throw SegmentLogError(.io, file: temp, "cannot rename: \(errnoText())") }
        try syncDirectory(directory)
        try step(.intentCommitted)
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
