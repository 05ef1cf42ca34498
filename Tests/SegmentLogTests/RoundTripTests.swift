import Codecs
import Foundation
@testable import SegmentLog
import TestSupport
import XCTest

final class RoundTripTests: XCTestCase {
    func testRandomRecordsRoundTripAcrossCodecsAndSegmentSizes() throws {
        let codecs: [CompressionCodec] = [.none, .lz4, .zstd(level: 3), .zstd(level: 9)]
        let shapes: [(blockBytes: Int, segmentBytes: Int64)] = [(64 * 1024, 256 << 20), (1024, 8 * 1024), (300, 2048), (1, 1)]
        var seed: UInt64 = 1
        for codec in codecs {
            for shape in shapes {
                seed += 1
                let dir = try TestEnvironment.temporaryDirectory("seg-rt").path
                defer { try? FileManager.default.removeItem(atPath: dir) }
                let input = LogFixtures.randomRecords(count: shape.blockBytes == 1 ? 200 : 1500, seed: seed)
                let written = try LogFixtures.write(input, to: dir, options: LogFixtures.options(codec: codec, blockBytes: shape.blockBytes, segmentBytes: shape.segmentBytes))
                let (read, stats) = try LogFixtures.readAll(dir)
                let context = "\(codec) block \(shape.blockBytes) segment \(shape.segmentBytes)"
                XCTAssertEqual(read.count, written.count, context)
                XCTAssertEqual(LogFixtures.perStream(read), LogFixtures.perStream(written), context)
                // Within a stream sequences are 1...n; across streams, receive-time order.
                for (_, records) in LogFixtures.perStream(read) {
                    XCTAssertEqual(records.map(\.sequence), Array(1...UInt64(records.count)), context)
                }
                XCTAssertEqual(read.map(\.receiveTimeNanos), read.map(\.receiveTimeNanos).sorted(), context)
                XCTAssertEqual(stats.records, written.count)
                XCTAssertEqual(stats.tornTails, 0)
                if shape.segmentBytes < 10_000 {
                    XCTAssertGreaterThan(try LogFixtures.segmentFiles(dir).count, 3, "segments roll by size: \(context)")
                }
            }
        }
    }

    func testReopeningContinuesSequencesAndStreamsAreListed() throws {
        let dir = try TestEnvironment.temporaryDirectory("seg-reopen").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let options = LogFixtures.options(codec: .lz4, blockBytes: 512, segmentBytes: 4096)
        let first = try LogFixtures.write(LogFixtures.randomRecords(count: 300, seed: 7), to: dir, options: options)
        let second = try LogFixtures.write(LogFixtures.randomRecords(count: 300, seed: 8, startTime: 1_800_000_000_000_000_000), to: dir, options: options)
        let firstLast = LogFixtures.perStream(first).mapValues { $0.last!.sequence }
        for (key, records) in LogFixtures.perStream(second) {
            XCTAssertEqual(records.first!.sequence, (firstLast[key] ?? 0) + 1, "\(key)")
        }
        let (read, _) = try LogFixtures.readAll(dir)
        XCTAssertEqual(LogFixtures.perStream(read), LogFixtures.perStream(first + second))
        XCTAssertEqual(try SegmentLogReader.streams(in: dir), LogFixtures.streams.sorted())
    }

    func testSegmentsRollByAge() throws {
        let dir = try TestEnvironment.temporaryDirectory("seg-age").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = LogFixtures.options(codec: .lz4, blockBytes: 1, segmentBytes: 1 << 30)
        options.segmentSeconds = 0   // every block is older than 0 s when the next append checks
        try LogFixtures.write(LogFixtures.randomRecords(count: 5, seed: 3), to: dir, options: options)
        XCTAssertEqual(try LogFixtures.segmentFiles(dir).count, 5)
    }

    func testWriterLockExcludesASecondWriter() throws {
        let dir = try TestEnvironment.temporaryDirectory("seg-lock").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try SegmentLogWriter(directory: dir, diagnostics: { _ in })
        XCTAssertThrowsError(try SegmentLogWriter(directory: dir, diagnostics: { _ in })) { error in
            XCTAssertEqual((error as? SegmentLogError)?.kind, .locked)
        }
        try writer.close()
        _ = try SegmentLogWriter(directory: dir, diagnostics: { _ in })
    }

    func testSyncedSequencesFollowThePolicy() throws {
        let dir = try TestEnvironment.temporaryDirectory("seg-sync").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let writer = try SegmentLogWriter(directory: dir, options: LogFixtures.options(codec: .lz4, blockBytes: 1 << 20, segmentBytes: 1 << 30, fsync: .everyBlock), diagnostics: { _ in })
        let key = StreamKey(source: "binance", stream: "btcusdt@trade")
        for i in 0..<10 { try writer.append(LogRecord(receiveTimeNanos: Int64(i), source: key.source, stream: key.stream, payload: [1])) }
        XCTAssertNil(writer.syncedSequences[key], "nothing is durable while the block is open")
        XCTAssertEqual(writer.lastSequences[key], 10)
        try writer.sync()
        XCTAssertEqual(writer.syncedSequences[key], 10)
        try writer.close()
    }
}
