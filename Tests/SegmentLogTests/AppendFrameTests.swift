import Codecs
import Foundation
import SegmentLog
import TestSupport
import XCTest

/// `appendFrame` (the capture's borrowed-bytes path through a resolved stream) must store exactly what
/// `append(LogRecord)` stores for the same records, and mix with it in one stream.
final class AppendFrameTests: XCTestCase {
    func testAppendFrameStoresWhatAppendStores() throws {
        let records = LogFixtures.randomRecords(count: 3000, seed: 77).filter { $0.kafka == nil && $0.gapExpected == nil && $0.gapSeen == nil }
        XCTAssertGreaterThan(records.count, 1000)
        var logs: [[LogRecord]] = []
        for useFrames in [false, true] {
            let dir = try TestEnvironment.temporaryDirectory("seg-frame").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let writer = try SegmentLogWriter(directory: dir, options: LogFixtures.options(codec: .zstd(level: 3), blockBytes: 4096, segmentBytes: 64 * 1024)) { _ in }
            var streams: [StreamKey: SegmentLogWriter.Stream] = [:]
            for (index, record) in records.enumerated() {
                // Every third record through `append`, so both paths share the streams' sequence numbers.
                if useFrames && index % 3 != 0 {
                    let stream = streams[record.streamKey] ?? writer.stream(source: record.source, stream: record.stream)
                    streams[record.streamKey] = stream
                    try record.payload.withUnsafeBytes {
                        try writer.appendFrame(record.kind, flags: record.flags, receiveTimeNanos: record.receiveTimeNanos, payload: $0, to: stream)
                    }
                } else {
                    try writer.append(record)
                }
            }
            try writer.close()
            logs.append(try LogFixtures.readAll(dir).0)
        }
        XCTAssertEqual(logs[0].count, records.count)
        XCTAssertEqual(logs[1], logs[0])
    }
}
