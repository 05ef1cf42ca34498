import Foundation
@testable import SegmentLog
import TestSupport
import XCTest

/// The compaction protocol's two crash states, built deterministically: before the intent is committed the
/// log is the old segments; after, the new ones — for readers (logically) and for a writer (which finishes it).
final class CompactionIntentTests: XCTestCase {
    func testPendingIntentRollsForwardAndUncommittedTemporariesRollBack() throws {
        let base = try TestEnvironment.temporaryDirectory("seg-intent").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let old = base + "/old", new = base + "/new"
        let written = try LogFixtures.write(LogFixtures.randomRecords(count: 600, seed: 5), to: old,
                                            options: LogFixtures.options(codec: .lz4, blockBytes: 512, segmentBytes: 4096))
        try FileManager.default.copyItem(atPath: old, toPath: new)
        var options = CompactionOptions()
        options.targetSegmentBytes = 1 << 20
        options.codec = .zstd(level: 9)
        options.dedupWindowNanos = nil
        let report = try SegmentLogCompactor.compact(directory: new, options: options, diagnostics: { _ in })
        XCTAssertEqual(report.outputSegments.count, 1)
        let oldNames = try LogFixtures.segmentFiles(old).map { ($0 as NSString).lastPathComponent }
        let newName = report.outputSegments[0]

        // State 1: outputs written as .tmp, no intent (killed before the commit) -> the old log; a writer rolls back.
        let s1 = base + "/s1"
        try FileManager.default.copyItem(atPath: old, toPath: s1)
        try FileManager.default.copyItem(atPath: new + "/" + newName, toPath: s1 + "/" + newName + ".tmp")
        XCTAssertEqual(LogFixtures.perStream(try LogFixtures.readAll(s1).0), LogFixtures.perStream(written))
        var notes: [String] = []
        try SegmentLogWriter(directory: s1, diagnostics: { notes.append($0) }).close()
        XCTAssertFalse(FileManager.default.fileExists(atPath: s1 + "/" + newName + ".tmp"))
        XCTAssertEqual(try LogFixtures.segmentFiles(s1).map { ($0 as NSString).lastPathComponent }, oldNames)
        XCTAssertTrue(notes.contains { $0.contains("did not commit") }, "\(notes)")

        // State 2: intent committed, nothing renamed or deleted yet -> readers see only the new segment;
        // a writer finishes: new segment in place, old ones and the intent gone.
        let s2 = base + "/s2"
        try FileManager.default.copyItem(atPath: old, toPath: s2)
        try FileManager.default.copyItem(atPath: new + "/" + newName, toPath: s2 + "/" + newName + ".tmp")
        try SegmentDirectory.commit(.init(old: oldNames, new: [newName]), directory: s2)
        let (seen, _) = try LogFixtures.readAll(s2)
        XCTAssertEqual(seen.count, written.count, "old and new are never both counted")
        XCTAssertEqual(LogFixtures.perStream(seen), LogFixtures.perStream(written))
        try SegmentLogWriter(directory: s2, diagnostics: { _ in }).close()
        XCTAssertEqual(try LogFixtures.segmentFiles(s2).map { ($0 as NSString).lastPathComponent }, [newName])
        XCTAssertFalse(FileManager.default.fileExists(atPath: SegmentDirectory.intentPath(s2)))
        XCTAssertEqual(LogFixtures.perStream(try LogFixtures.readAll(s2).0), LogFixtures.perStream(written))

        // State 3: intent committed, half the old segments already deleted -> the same.
        let s3 = base + "/s3"
        try FileManager.default.copyItem(atPath: old, toPath: s3)
        try FileManager.default.copyItem(atPath: new + "/" + newName, toPath: s3 + "/" + newName)
        try SegmentDirectory.commit(.init(old: oldNames, new: [newName]), directory: s3)
        for name in oldNames.prefix(oldNames.count / 2) { try FileManager.default.removeItem(atPath: s3 + "/" + name) }
        XCTAssertEqual(LogFixtures.perStream(try LogFixtures.readAll(s3).0), LogFixtures.perStream(written))
    }

    func testIntervalPolicySyncsWithinTheInterval() throws {
        let dir = try TestEnvironment.temporaryDirectory("seg-interval").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try SegmentLogWriter(directory: dir, options: LogFixtures.options(codec: .lz4, blockBytes: 1 << 20, segmentBytes: 1 << 30, fsync: .interval(milliseconds: 0)), diagnostics: { _ in })
        let key = StreamKey(source: "kraken", stream: "XBT/USD")
        try writer.append(LogRecord(receiveTimeNanos: 1, source: key.source, stream: key.stream, payload: [1]))
        // With a 0 ms interval every append writes the open blocks and syncs.
        XCTAssertEqual(writer.syncedSequences[key], 1)
        try writer.close()
    }
}
