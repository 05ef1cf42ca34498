import Foundation
@testable import SegmentLog
import TestSupport
import XCTest

final class SeekTests: XCTestCase {
    var dir = ""
    var written: [LogRecord] = []

    override func setUpWithError() throws {
        dir = try TestEnvironment.temporaryDirectory("seg-seek").path
        written = try LogFixtures.write(LogFixtures.randomRecords(count: 4000, seed: 42), to: dir,
                                        options: LogFixtures.options(codec: .zstd(level: 3), blockBytes: 2048, segmentBytes: 32 * 1024))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    private func expected(_ include: (LogRecord) -> Bool) -> [StreamKey: [LogRecord]] {
        LogFixtures.perStream(written.filter(include))
    }

    func testSeekByTimeUsesTheIndex() throws {
        let (_, full) = try LogFixtures.readAll(dir)
        let times = written.map(\.receiveTimeNanos).sorted()
        let from = times[3000], until = times[3400]
        var selection = ReadSelection()
        selection.fromTimeNanos = from
        selection.untilTimeNanos = until
        let (read, stats) = try LogFixtures.readAll(dir, selection: selection)
        XCTAssertEqual(LogFixtures.perStream(read), expected { $0.receiveTimeNanos >= from && $0.receiveTimeNanos < until })
        XCTAssertFalse(read.isEmpty)
        XCTAssertLessThan(stats.blocks * 4, full.blocks, "a narrow time range reads a few blocks, not the log")
    }

    /// The planned count (segment indexes only) is every record for the whole log, and for a narrow time range
    /// a bound above what is read that is far below the whole log: the blocks the seek visits, not more.
    func testPlannedRecordCountBoundsWhatIsReadFromTheIndexes() throws {
        let whole = try SegmentLogReader(directory: dir, diagnostics: { _ in })
        XCTAssertEqual(whole.plannedRecordCount, written.count)
        let times = written.map(\.receiveTimeNanos).sorted()
        var selection = ReadSelection()
        selection.fromTimeNanos = times[3000]
        selection.untilTimeNanos = times[3400]
        let narrow = try SegmentLogReader(directory: dir, selection: selection, diagnostics: { _ in })
        let planned = narrow.plannedRecordCount
        var read = 0
        while try narrow.next() != nil { read += 1 }
        XCTAssertEqual(read, 400)
        XCTAssertGreaterThanOrEqual(planned, read)
        XCTAssertLessThan(planned, written.count / 4)
    }

    func testSeekBySequenceAndResumeAfter() throws {
        let btc = StreamKey(source: "binance", stream: "btcusdt@trade")
        var selection = ReadSelection()
        selection.fromSequence = 500
        selection.untilSequence = 600
        let (read, stats) = try LogFixtures.readAll(dir, selection: selection)
        XCTAssertEqual(LogFixtures.perStream(read), expected { $0.sequence >= 500 && $0.sequence <= 600 })
        let (_, full) = try LogFixtures.readAll(dir)
        XCTAssertLessThan(stats.blocks * 3, full.blocks)

        var resume = ReadSelection()
        resume.resumeAfter = [btc: 700]
        resume.sources = ["binance"]
        let (resumed, _) = try LogFixtures.readAll(dir, selection: resume)
        XCTAssertEqual(LogFixtures.perStream(resumed), expected { $0.source == "binance" && ($0.streamKey != btc || $0.sequence > 700) })
    }

    func testSelectByStreamAndKind() throws {
        var selection = ReadSelection()
        selection.streams = ["XBT/USD", "3"]
        selection.kinds = [.data, .gap]
        let (read, _) = try LogFixtures.readAll(dir, selection: selection)
        XCTAssertEqual(LogFixtures.perStream(read), expected { ["XBT/USD", "3"].contains($0.stream) && [.data, .gap].contains($0.kind) })
        XCTAssertTrue(read.contains { $0.kind == .gap && $0.gapExpected != nil })
        XCTAssertTrue(read.contains { $0.kafka != nil })
    }
}
