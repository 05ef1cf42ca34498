import Codecs
import Foundation
@testable import SegmentLog
import TestSupport
import XCTest

final class RecordViewTests: XCTestCase {
    /// `next(view:)` hands over the same records, in the same order, as `next()`, across block boundaries
    /// and with every optional field, and with a selection applied.
    func testViewsAreTheRecordsNextReturns() throws {
        let dir = try TestEnvironment.temporaryDirectory("seg-view").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = LogFixtures.randomRecords(count: 3000, seed: 77)
        try LogFixtures.write(input, to: dir, options: LogFixtures.options(codec: .zstd(level: 3), blockBytes: 4096, segmentBytes: 64 * 1024))
        var selection = ReadSelection.all
        selection.resumeAfter[LogFixtures.streams[0]] = 100
        for selection in [ReadSelection.all, selection] {
            let (expected, _) = try LogFixtures.readAll(dir, selection: selection)
            let reader = try SegmentLogReader(directory: dir, selection: selection, diagnostics: { _ in })
            let keys = reader.streamKeys
            var viewed: [LogRecord] = []
            while try reader.next(view: { view in
                let key = keys[view.streamIndex]
                viewed.append(LogRecord(kind: view.kind, flags: view.flags, receiveTimeNanos: view.receiveTimeNanos,
                                        sequence: view.sequence, source: key.source, stream: key.stream,
                                        payload: Array(view.payload), kafka: view.kafka,
                                        gapExpected: view.gapExpected, gapSeen: view.gapSeen))
            }) {}
            XCTAssertGreaterThan(expected.count, 2000)
            XCTAssertEqual(viewed, expected)
            XCTAssertEqual(reader.statistics.records, expected.count)
        }
    }
}
