import Foundation
@testable import SegmentLog
import TestSupport
import XCTest

/// A reader lists the directory while a compaction's roll-forward renames new segments into place and deletes
/// the old ones. Each test stops or interleaves that roll-forward at a chosen point, deterministically.
final class ConcurrentCompactionReadTests: XCTestCase {
    private var base = ""
    private var written: [LogRecord] = []
    private var compacted: [StreamKey: [LogRecord]] = [:]
    private var oldNames: [String] = []

    struct Stop: Error {}

    /// A multi-segment log with the state a compaction stopped after `step` left (its pending work undone).
    private func stoppedCompaction(after step: SegmentDirectory.Step, name: String) throws -> String {
        let dir = base + "/" + name
        try FileManager.default.copyItem(atPath: base + "/template", toPath: dir)
        XCTAssertThrowsError(try SegmentLogCompactor.compact(directory: dir, options: compaction, diagnostics: { _ in },
                                                             step: { if $0 == step { throw Stop() } }))
        return dir
    }

    private var compaction: CompactionOptions {
        var options = CompactionOptions()
        options.targetSegmentBytes = 1 << 20
        options.codec = .zstd(level: 3)
        return options
    }

    override func setUpWithError() throws {
        base = try TestEnvironment.temporaryDirectory("seg-race").path
        let template = base + "/template"
        written = try LogFixtures.write(LogFixtures.randomRecords(count: 800, seed: 11), to: template,
                                        options: LogFixtures.options(codec: .lz4, blockBytes: 512, segmentBytes: 4096))
        oldNames = try LogFixtures.segmentFiles(template).map { ($0 as NSString).lastPathComponent }
        XCTAssertGreaterThan(oldNames.count, 4)
        let full = base + "/full"
        try FileManager.default.copyItem(atPath: template, toPath: full)
        _ = try SegmentLogCompactor.compact(directory: full, options: compaction, diagnostics: { _ in })
        compacted = LogFixtures.perStream(try LogFixtures.readAll(full).0)
        XCTAssertEqual(compacted, LogFixtures.perStream(written), "random payloads: nothing to de-duplicate")
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: base)
    }

    private func read(_ dir: String, hook: @escaping SegmentDirectory.ListingHook) throws -> [LogRecord] {
        let reader = try SegmentLogReader(directory: dir, selection: .all, skipCorrupt: false, diagnostics: { _ in }, listingHook: hook)
        var out: [LogRecord] = []
        while let r = try reader.next() { out.append(r) }
        return out
    }

    private func assertEachSequenceOnce(_ records: [LogRecord], file: StaticString = #filePath, line: UInt = #line) {
        var seen = Set<String>()
        for r in records where !seen.insert("\(r.streamKey)#\(r.sequence)").inserted {
            XCTFail("\(r.streamKey) sequence \(r.sequence) returned twice", file: file, line: line)
            return
        }
    }

    /// The moment the review found: new segments renamed into place, old ones not yet all deleted, intent already
    /// gone (as a listing taken mid-roll-forward holds it). The reader must not return both copies: it refuses,
    /// naming the stream and the two files.
    func testOldAndNewSegmentsWithoutIntentAreRefusedNotReadTwice() throws {
        let dir = try stoppedCompaction(after: .intentCommitted, name: "mixed")
        // Roll forward by hand up to the renames, then drop the intent: old and new side by side.
        let intent = try XCTUnwrap(SegmentDirectory.readIntent(dir))
        for new in intent.new { XCTAssertEqual(rename(dir + "/" + new + ".tmp", dir + "/" + new), 0) }
        try FileManager.default.removeItem(atPath: SegmentDirectory.intentPath(dir))
        let listed = try SegmentDirectory.segments(dir).map { ($0.path as NSString).lastPathComponent }
        XCTAssertEqual(listed, oldNames + intent.new, "without the intent a listing holds both")

        XCTAssertThrowsError(try LogFixtures.readAll(dir)) { error in
            let e = error as? SegmentLogError
            XCTAssertEqual(e?.kind, .corrupt, "\(error)")
            let text = "\(error)"
            XCTAssertTrue(text.contains("overlaps sequences"), text)
            XCTAssertTrue(text.contains(intent.new[0]) && self.oldNames.contains { text.contains($0) }, text)
            XCTAssertTrue(LogFixtures.streams.contains { text.contains("stream \($0)") }, text)
        }
        // Also for one stream and a resumed range: the check covers every block of a selected stream.
        var one = ReadSelection()
        one.streams = [LogFixtures.streams[0].stream]
        one.fromSequence = 100_000
        XCTAssertThrowsError(try LogFixtures.readAll(dir, selection: one))
        // `k2-compact --check` reads each segment alone; it reports the overlap across them as a problem.
        let check = try SegmentLogChecker.check(directory: dir, diagnostics: { _ in })
        XCTAssertFalse(check.ok)
        XCTAssertEqual(check.problems.filter { $0.contains("overlaps sequences") }.count, LogFixtures.streams.count, "\(check.problems)")
        XCTAssertTrue(check.problems.allSatisfy { $0.contains(intent.new[0]) }, "\(check.problems)")
    }

    /// The cursor itself never returns a sequence twice, whatever its blocks: handed an old and a new segment's
    /// overlapping blocks directly, it stops with an error at the first block not above what it passed.
    func testCursorNeverReturnsASequenceTwice() throws {
        let dir = try stoppedCompaction(after: .intentCommitted, name: "cursor")
        let intent = try XCTUnwrap(SegmentDirectory.readIntent(dir))
        let paths = [dir + "/" + oldNames[0], dir + "/" + intent.new[0] + ".tmp"]
        var files: [SegmentFile] = []
        var blocks: [PlannedBlock] = []
        let key = try SegmentScanner.scan(path: paths[0], id: 1, verifyPayloads: false, lenient: false, diagnostics: { _ in }).blocks[0].key
        for (index, path) in paths.enumerated() {
            let file = try SegmentFile.openRead(path)
            let info = try SegmentScanner.scan(file: file, id: UInt64(index + 1), verifyPayloads: true, lenient: false, diagnostics: { _ in })
            files.append(file)
            for block in info.blocks where block.key == key {
                blocks.append(PlannedBlock(segment: index, info: block, sealed: true, endsUnsealedSegment: false, dataEnd: info.dataEnd))
            }
        }
        blocks.sort { ($0.info.firstSequence, $0.segment) < ($1.info.firstSequence, $1.segment) }
        let cursor = StreamCursor(key: key, blocks: blocks, selection: .all)
        let loader = BlockLoader(files: files, skipCorrupt: true, diagnostics: { _ in })
        var returned: [UInt64] = []
        XCTAssertThrowsError(try {
            while true {
                try loader.advance(cursor)
                guard cursor.hasHead else { return }
                returned.append(cursor.headSequence)
            }
        }()) { error in
            XCTAssertTrue("\(error)".contains("not above sequence"), "\(error)")
        }
        XCTAssertFalse(returned.isEmpty)
        XCTAssertEqual(returned, returned.sorted())
        XCTAssertEqual(Set(returned).count, returned.count, "no sequence returned twice")
    }

    /// Intent read, then (before the listing) the roll-forward renames the new segments and deletes half the old;
    /// after the listing it finishes and deletes the intent. The second intent read differs: the reader lists again
    /// and reads exactly the compacted log. (The old order — list, then read the intent — returned both.)
    func testIntentGoneBetweenTheTwoReadsListsAgain() throws {
        let dir = try stoppedCompaction(after: .intentCommitted, name: "gone")
        let intent = try XCTUnwrap(SegmentDirectory.readIntent(dir))
        var events: [SegmentDirectory.ListingStep] = []
        let records = try read(dir) { step in
            events.append(step)
            guard events.filter({ $0 == step }).count == 1 else { return }
            if step == .intentRead {
                for new in intent.new { XCTAssertEqual(rename(dir + "/" + new + ".tmp", dir + "/" + new), 0) }
                for old in intent.old.prefix(intent.old.count / 2) { try FileManager.default.removeItem(atPath: dir + "/" + old) }
            } else if step == .listed {
                try SegmentDirectory.recover(dir, diagnostics: { _ in })
                XCTAssertNil(try SegmentDirectory.readIntent(dir))
            }
        }
        XCTAssertEqual(events, [.intentRead, .listed, .intentRead, .listed, .resolved], "listed twice")
        assertEachSequenceOnce(records)
        XCTAssertEqual(LogFixtures.perStream(records), compacted)
    }

    /// Both intent reads find no intent, yet the listing mixes old and new segments that all still open: the
    /// commit and the renames happen before the listing, the intent is gone before the second read, and the old
    /// segments are deleted only after the files were opened. (A real roll-forward deletes the old segments before
    /// the intent, so there the reader's open fails with ENOENT and it lists again; this order is the one the
    /// overlap check alone must catch.) The reader lists again and reads exactly the compacted log.
    func testMixedListingWithNoIntentEitherTimeIsCaughtByTheOverlapCheck() throws {
        let dir = try stoppedCompaction(after: .highWaterPrepared, name: "whole")
        let outputs = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".k2seg.tmp") }
            .map { String($0.dropLast(4)) }
        XCTAssertEqual(outputs.count, 1)
        var events: [SegmentDirectory.ListingStep] = []
        let records = try read(dir) { step in
            events.append(step)
            switch events.count {
            case 1:
                try SegmentDirectory.commit(.init(old: self.oldNames, new: outputs, highWater: SequenceHighWater.fileName), directory: dir)
                try SequenceHighWater.publish(directory: dir)
                for new in outputs { XCTAssertEqual(rename(dir + "/" + new + ".tmp", dir + "/" + new), 0) }
            case 2:
                try FileManager.default.removeItem(atPath: SegmentDirectory.intentPath(dir))
            case 4:
                for old in self.oldNames { try FileManager.default.removeItem(atPath: dir + "/" + old) }
            default:
                break
            }
        }
        XCTAssertEqual(events, [.intentRead, .listed, .resolved, .intentRead, .listed, .resolved], "listed again after the overlap")
        assertEachSequenceOnce(records)
        XCTAssertEqual(LogFixtures.perStream(records), compacted)
    }

    /// Listed and resolved while the intent was pending (new segment still `.tmp`), then the roll-forward finished
    /// before the files were opened: opening the `.tmp` fails with ENOENT, and the reader lists again instead of
    /// failing with "cannot open".
    func testSegmentVanishingBeforeItIsOpenedListsAgain() throws {
        let dir = try stoppedCompaction(after: .intentCommitted, name: "vanish")
        var resolved = 0
        let records = try read(dir) { step in
            guard step == .resolved else { return }
            resolved += 1
            if resolved == 1 { try SegmentDirectory.recover(dir, diagnostics: { _ in }) }
        }
        XCTAssertEqual(resolved, 2)
        assertEachSequenceOnce(records)
        XCTAssertEqual(LogFixtures.perStream(records), compacted)
        // SegmentLogReader.streams and the checker list again the same way.
        XCTAssertEqual(Set(try SegmentLogReader.streams(in: dir)), Set(compacted.keys))
    }
}
