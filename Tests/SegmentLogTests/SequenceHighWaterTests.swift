import Foundation
@testable import SegmentLog
import TestSupport
import XCTest

/// Compaction removes records (expiry, de-duplication) but must never lower the sequence a stream continues at:
/// a replay resumes "after sequence N", so a number used twice makes it skip new records.
final class SequenceHighWaterTests: XCTestCase {
    private var base = ""

    override func setUpWithError() throws {
        base = try TestEnvironment.temporaryDirectory("seg-highwater").path
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: base)
    }

    static let kraken = StreamKey(source: "kraken", stream: "XBT/USD")        // newest two records are duplicates
    static let expiring = StreamKey(source: "binance", stream: "oldcoin@trade")  // only in the expired segment
    static let live = StreamKey(source: "binance", stream: "btcusdt@trade")

    /// Two sealed segments: the first (2020) expires under `deleteBefore`; in the second (2024) the kraken
    /// stream ends with two identical-bytes repeats that de-duplication removes. Returns every record written.
    static func writeFixture(_ dir: String) throws -> [LogRecord] {
        var options = SegmentLogWriterOptions()
        options.codec = .lz4
        options.fsync = .never
        var written: [LogRecord] = []
        func write(_ records: [(StreamKey, String)], at start: Int64) throws {
            let writer = try SegmentLogWriter(directory: dir, options: options, diagnostics: { _ in })
            for (i, (key, text)) in records.enumerated() {
                var record = LogRecord(receiveTimeNanos: start + Int64(i) * 1_000_000, source: key.source, stream: key.stream,
                                       payload: Array(text.utf8))
                record.sequence = try writer.append(record)
                written.append(record)
            }
            try writer.close()
        }
        try write((1...5).map { (kraken, "{\"n\":\($0)}") } + (1...3).map { (expiring, "{\"b\":\($0)}") },
                  at: 1_600_000_000_000_000_000)
        try write([6, 7, 8, 7, 8].map { (kraken, "{\"n\":\($0)}") } + (1...4).map { (live, "{\"b\":\($0)}") },
                  at: 1_710_000_000_000_000_000)
        return written
    }

    static var compaction: CompactionOptions {
        var options = CompactionOptions()
        options.deleteBeforeNanos = 1_650_000_000_000_000_000
        options.rewriteAll = true
        options.targetSegmentBytes = 1 << 20
        return options
    }

    static func highest(_ records: [LogRecord]) -> [StreamKey: UInt64] {
        var result: [StreamKey: UInt64] = [:]
        for r in records { result[r.streamKey] = max(result[r.streamKey] ?? 0, r.sequence) }
        return result
    }

    /// Opens a writer on a copy of `dir` and appends one record per stream; returns the sequences assigned.
    static func nextSequences(after dir: String, streams: [StreamKey], copyTo copy: String) throws -> [StreamKey: UInt64] {
        try FileManager.default.copyItem(atPath: dir, toPath: copy)
        defer { try? FileManager.default.removeItem(atPath: copy) }
        let writer = try SegmentLogWriter(directory: copy, diagnostics: { _ in })
        var result: [StreamKey: UInt64] = [:]
        for key in streams {
            result[key] = try writer.append(LogRecord(receiveTimeNanos: 1_720_000_000_000_000_000, source: key.source,
                                                      stream: key.stream, payload: Array("new".utf8)))
        }
        try writer.close()
        return result
    }

    func testCompactionThatRemovesAStreamsNewestRecordsNeverLowersItsNextSequence() throws {
        let dir = base + "/log"
        let written = try Self.writeFixture(dir)
        let everHighest = Self.highest(written)
        XCTAssertEqual(everHighest, [Self.kraken: 10, Self.expiring: 3, Self.live: 4])

        let report = try SegmentLogCompactor.compact(directory: dir, options: Self.compaction, diagnostics: { _ in })
        XCTAssertEqual(report.expiredSegments.count, 1)
        XCTAssertEqual(report.duplicatesByRule, ["identical-bytes": 2])
        let (left, _) = try LogFixtures.readAll(dir)
        XCTAssertEqual(Self.highest(left), [Self.kraken: 8, Self.live: 4], "the fixture removes the newest records of two streams")
        XCTAssertEqual(try SequenceHighWater.read(dir).sequences, everHighest)

        // A replay had finished everything before the compaction: its checkpoint is the old highs.
        let writer = try SegmentLogWriter(directory: dir, diagnostics: { _ in })
        var appended: [LogRecord] = []
        for key in [Self.kraken, Self.expiring, Self.live] {
            var record = LogRecord(receiveTimeNanos: 1_720_000_000_000_000_000, source: key.source, stream: key.stream, payload: Array("after".utf8))
            record.sequence = try writer.append(record)
            XCTAssertEqual(record.sequence, everHighest[key]! + 1, "\(key) continues above every sequence it ever had")
            appended.append(record)
        }
        try writer.close()
        var resume = ReadSelection()
        resume.resumeAfter = everHighest
        let (resumed, _) = try LogFixtures.readAll(dir, selection: resume)
        XCTAssertEqual(resumed.map(\.streamKey).sorted(), appended.map(\.streamKey).sorted(),
                       "a rerun resuming from the old checkpoint must see every new record")
        XCTAssertTrue(resumed.allSatisfy { $0.payload == Array("after".utf8) })

        // A second compaction keeps the marks (they come from the file now, not the segments) and raises them.
        _ = try SegmentLogCompactor.compact(directory: dir, options: Self.compaction, diagnostics: { _ in })
        XCTAssertEqual(try SequenceHighWater.read(dir).sequences, [Self.kraken: 11, Self.expiring: 4, Self.live: 5])
    }

    func testUnreadableHighWaterFileStopsTheWriterInsteadOfGuessing() throws {
        let dir = base + "/bad"
        _ = try Self.writeFixture(dir)
        try Data("{\"version\":1,\"streams\":[".utf8).write(to: URL(fileURLWithPath: SequenceHighWater.path(dir)))
        XCTAssertThrowsError(try SegmentLogWriter(directory: dir, diagnostics: { _ in })) { error in
            XCTAssertEqual((error as? SegmentLogError)?.kind, .corrupt)
            XCTAssertEqual((error as? SegmentLogError)?.file, SequenceHighWater.path(dir))
        }
    }

    struct Stop: Error {}

    /// Stops the compaction right after each step of its protocol (what a kill -9 there leaves), then checks that
    /// readers see exactly the old or exactly the new records, that a writer opening the log continues every
    /// stream above every sequence it ever had, and that a rerun finishes the job.
    func testStoppedAtEveryCompactionStepNoSequenceIsReused() throws {
        let template = base + "/template"
        let written = try Self.writeFixture(template)
        let everHighest = Self.highest(written)
        let streams = everHighest.keys.sorted()
        let oldRecords = LogFixtures.perStream(written)

        // The steps of an uninterrupted run, and what it leaves.
        let full = base + "/full"
        try FileManager.default.copyItem(atPath: template, toPath: full)
        var steps: [SegmentDirectory.Step] = []
        _ = try SegmentLogCompactor.compact(directory: full, options: Self.compaction, diagnostics: { _ in },
                                            step: { steps.append($0) })
        let newRecords = LogFixtures.perStream(try LogFixtures.readAll(full).0)
        XCTAssertNotEqual(newRecords, oldRecords)
        XCTAssertTrue(steps.contains(.highWaterPublished) && steps.contains(.intentDeleted), "\(steps)")
        XCTAssertEqual(steps.filter { if case .oldDeleted = $0 { return true } else { return false } }.count, 2, "\(steps)")
        let commit = try XCTUnwrap(steps.firstIndex(of: .intentCommitted))

        for (k, stop) in steps.enumerated() {
            let dir = base + "/stop-\(k)"
            try FileManager.default.copyItem(atPath: template, toPath: dir)
            XCTAssertThrowsError(try SegmentLogCompactor.compact(directory: dir, options: Self.compaction, diagnostics: { _ in },
                                                                 step: { if $0 == stop { throw Stop() } }))
            let seen = LogFixtures.perStream(try LogFixtures.readAll(dir).0)
            XCTAssertEqual(seen, k < commit ? oldRecords : newRecords, "stopped after \(stop)")

            let next = try Self.nextSequences(after: dir, streams: streams, copyTo: base + "/writer-\(k)")
            for key in streams { XCTAssertEqual(next[key], everHighest[key]! + 1, "stopped after \(stop): \(key)") }

            _ = try SegmentLogCompactor.compact(directory: dir, options: Self.compaction, diagnostics: { _ in })
            XCTAssertEqual(LogFixtures.perStream(try LogFixtures.readAll(dir).0), newRecords, "rerun after \(stop)")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir)
                .filter { $0.hasSuffix(SegmentFormat.temporarySuffix) || $0.hasPrefix("compaction") }
            XCTAssertEqual(leftovers, [], "rerun after \(stop)")
            let again = try Self.nextSequences(after: dir, streams: streams, copyTo: base + "/writer-\(k)")
            for key in streams { XCTAssertEqual(again[key], everHighest[key]! + 1, "rerun after \(stop): \(key)") }
        }
    }
}
