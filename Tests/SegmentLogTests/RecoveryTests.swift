import Foundation
@testable import SegmentLog
import TestSupport
import XCTest

final class RecoveryTests: XCTestCase {
    /// Writes a sealed one-segment log and returns its file and block layout.
    private func makeSegment(_ dir: String, count: Int = 120) throws -> (path: String, written: [LogRecord], info: SegmentInfo) {
        let written = try LogFixtures.write(LogFixtures.randomRecords(count: count, seed: 99), to: dir,
                                            options: LogFixtures.options(codec: .zstd(level: 3), blockBytes: 700, segmentBytes: 1 << 30))
        let path = try LogFixtures.segmentFiles(dir)[0]
        let info = try SegmentScanner.scan(path: path, id: 1, verifyPayloads: true, lenient: false, diagnostics: { _ in })
        XCTAssertTrue(info.sealed)
        return (path, written, info)
    }

    /// Truncates a segment at every byte offset of its last block (as a writer killed mid-write leaves it):
    /// the reader stops at the torn tail and reports it, a writer recovers, keeps every whole block and
    /// continues the sequences.
    func testTruncationAtEveryOffsetOfTheLastBlock() throws {
        let base = try TestEnvironment.temporaryDirectory("seg-trunc").path
        defer { try? FileManager.default.removeItem(atPath: base) }
        let (path, written, info) = try makeSegment(base + "/original")
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        let last = info.blocks.last!
        var scratch: [UInt8] = []
        let lastFull = try SegmentScanner.validBlock(file: SegmentFile.openRead(path), at: last.offset, end: Int64(original.count), verifyPayload: true, buffer: &scratch)!
        let kept = written.filter { $0.streamKey != last.key || $0.sequence < last.firstSequence }
        XCTAssertEqual(kept.count, written.count - Int(last.recordCount))
        let name = (path as NSString).lastPathComponent
        for cut in Int(last.offset)...Int(lastFull.end) {
            let dir = base + "/cut-\(cut)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try original.prefix(cut).write(to: URL(fileURLWithPath: dir + "/" + name))
            let whole = cut == Int(lastFull.end)
            var messages: [String] = []
            let (read, stats) = try LogFixtures.readAll(dir, diagnostics: { messages.append($0) })
            XCTAssertEqual(LogFixtures.perStream(read), LogFixtures.perStream(whole ? written : kept), "cut at \(cut)")
            let torn = cut != Int(last.offset) && !whole
            XCTAssertEqual(stats.tornTails, torn ? 1 : 0, "cut at \(cut)")
            if torn { XCTAssertTrue(messages.contains { $0.contains(name) && $0.contains("byte offset \(last.offset)") }, "\(messages)") }

            // A writer recovers it: torn tail truncated, segment sealed, sequences continue after the last kept record.
            var recovery: [String] = []
            let writer = try SegmentLogWriter(directory: dir, options: LogFixtures.options(codec: .lz4, blockBytes: 100, segmentBytes: 1 << 20), diagnostics: { recovery.append($0) })
            if torn { XCTAssertTrue(recovery.contains { $0.contains("truncated a torn tail") }, "\(recovery)") }
            let next = try writer.append(LogRecord(receiveTimeNanos: 1, source: last.key.source, stream: last.key.stream, payload: [7]))
            XCTAssertEqual(next, whole ? last.lastSequence + 1 : last.firstSequence, "cut at \(cut)")
            try writer.close()
            let recovered = try SegmentScanner.scan(path: dir + "/" + name, id: 1, verifyPayloads: true, lenient: false, diagnostics: { _ in })
            XCTAssertTrue(recovered.sealed, "cut at \(cut)")
            let (after, afterStats) = try LogFixtures.readAll(dir)
            XCTAssertEqual(after.count, (whole ? written : kept).count + 1)
            XCTAssertEqual(afterStats.tornTails, 0)
            try FileManager.default.removeItem(atPath: dir)
        }
    }

    func testFlippedByteIsDetectedAndLocated() throws {
        let dir = try TestEnvironment.temporaryDirectory("seg-flip").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (path, written, info) = try makeSegment(dir)
        let victim = info.blocks[info.blocks.count / 2]
        let victimRecords = Int(victim.recordCount)
        let original = try Data(contentsOf: URL(fileURLWithPath: path))
        // A byte in the payload, then a byte in the header.
        for position in [Int(victim.offset) + 64 + victim.keyBytes + 10, Int(victim.offset) + 30] {
            var corrupted = original
            corrupted[position] ^= 0x5A
            try corrupted.write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try LogFixtures.readAll(dir)) { error in
                let e = error as? SegmentLogError
                XCTAssertEqual(e?.file, path)
                XCTAssertEqual(e?.offset, victim.offset)
                XCTAssertTrue("\(error)".contains("\(path) at byte offset \(victim.offset)"), "\(error)")
            }
            var messages: [String] = []
            let (read, stats) = try LogFixtures.readAll(dir, skipCorrupt: true, diagnostics: { messages.append($0) })
            XCTAssertEqual(stats.corruptBlocksSkipped, 1)
            XCTAssertEqual(read.count, written.count - victimRecords)
            XCTAssertFalse(read.contains { $0.streamKey == victim.key && $0.sequence >= victim.firstSequence && $0.sequence <= victim.lastSequence })
            XCTAssertTrue(messages.contains { $0.contains("byte offset \(victim.offset)") })
        }
    }

    func testCorruptionInsideAnUnsealedSegmentIsNotATornTail() throws {
        let dir = try TestEnvironment.temporaryDirectory("seg-unsealed").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (path, written, info) = try makeSegment(dir)
        var data = try Data(contentsOf: URL(fileURLWithPath: path))
        data = data.prefix(Int(info.blocks.last!.offset) + 64 + info.blocks.last!.keyBytes + Int(10))  // unsealed, torn last block
        let victim = info.blocks[1]
        data[Int(victim.offset) + 5] ^= 0xFF   // header of block 1
        try data.write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try LogFixtures.readAll(dir)) { error in
            XCTAssertEqual((error as? SegmentLogError)?.offset, victim.offset, "\(error)")
        }
        let (read, stats) = try LogFixtures.readAll(dir, skipCorrupt: true)
        XCTAssertEqual(stats.tornTails, 1)
        XCTAssertEqual(read.count, written.count - Int(victim.recordCount) - Int(info.blocks.last!.recordCount))
    }
    /// A segment followed by a later one from the same writer was sealed before that one was created: if it now
    /// ends in a torn tail it was cut short (lost data), which must be an error naming it, not a quiet end.
    func testTornTailOfASegmentItsWriterWentPastIsCorruption() throws {
        let dir = try TestEnvironment.temporaryDirectory("seg-cut-sealed").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let written = try LogFixtures.write(LogFixtures.randomRecords(count: 400, seed: 7), to: dir,
                                            options: LogFixtures.options(codec: .lz4, blockBytes: 500, segmentBytes: 4000))
        let files = try LogFixtures.segmentFiles(dir)
        XCTAssertGreaterThan(files.count, 2)
        let path = files[0]
        let info = try SegmentScanner.scan(path: path, id: 1, verifyPayloads: true, lenient: false, diagnostics: { _ in })
        let last = info.blocks.last!
        let cut = last.offset + 20
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        try data.prefix(Int(cut)).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try LogFixtures.readAll(dir)) { error in
            let e = error as? SegmentLogError
            XCTAssertEqual(e?.kind, .corrupt)
            XCTAssertEqual(e?.file, path)
            XCTAssertEqual(e?.offset, last.offset)
            XCTAssertTrue("\(error)".contains("\(path) at byte offset \(last.offset)"), "\(error)")
        }
        let (read, stats) = try LogFixtures.readAll(dir, skipCorrupt: true)
        XCTAssertEqual(stats.tornTails, 0)
        XCTAssertEqual(stats.corruptBlocksSkipped, 1)
        XCTAssertEqual(read.count, written.count - Int(last.recordCount))
    }
}
