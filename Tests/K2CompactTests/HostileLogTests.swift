import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import SegmentLog
import TestSupport
import XCTest

/// Log directories holding files the toolkit did not write (fixtures/hostile/): a clear error, nothing
/// outside the log touched, nothing silently left out.
final class HostileLogTests: XCTestCase {
    var tool: String { TestEnvironment.productPath("k2-compact") }

    func hostile(_ name: String) -> URL {
        TestEnvironment.repositoryRoot.appendingPathComponent("fixtures/hostile/\(name)")
    }

    /// A compaction intent whose `old` list leads out of the log (`../victim/keep.txt`): rolling it forward
    /// would delete that file. k2-compact (and every writer, which rolls intents forward) refuses it.
    func testCompactionIntentNamingAPathOutsideTheLogDeletesNothing() throws {
        let root = try TestEnvironment.temporaryDirectory("hostile-intent")
        defer { try? FileManager.default.removeItem(at: root) }
        let log = root.appendingPathComponent("log"), victim = root.appendingPathComponent("victim/keep.txt")
        try FileManager.default.createDirectory(at: victim.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: victim)
        var options = SegmentLogWriterOptions()
        options.fsync = .never
        let writer = try SegmentLogWriter(directory: log.path, options: options, diagnostics: { _ in })
        for i in 0..<10 {
            _ = try writer.append(LogRecord(receiveTimeNanos: 1_000 + Int64(i), source: "binance", stream: "btcusdt@trade", payload: Array("r\(i)".utf8)))
        }
        try writer.close()
        try FileManager.default.copyItem(at: hostile("compaction-intent-path-escape.json"),
                                         to: log.appendingPathComponent(SegmentFormat.intentName))

        for arguments in [[log.path, "--check"], [log.path, "--all"]] {
            let run = try ProcessRunner.run(tool, arguments)
            XCTAssertNotEqual(run.status, 0, "k2-compact \(arguments) accepted the intent")
            XCTAssertTrue(run.stderrText.contains("../victim/keep.txt") && run.stderrText.contains("not a segment file"), run.stderrText)
        }
        XCTAssertThrowsError(try SegmentLogWriter(directory: log.path, options: options, diagnostics: { _ in }))
        XCTAssertEqual(try String(contentsOf: victim, encoding: .utf8), "keep me")
    }

    /// A file named like a segment whose id does not fit 64 bits was left out of every read ("check: OK").
    func testSegmentNameBeyondSixtyFourBitsIsReportedNotIgnored() throws {
        let log = try TestEnvironment.temporaryDirectory("hostile-name")
        defer { try? FileManager.default.removeItem(at: log) }
        let writer = try SegmentLogWriter(directory: log.path, diagnostics: { _ in })
        _ = try writer.append(LogRecord(receiveTimeNanos: 1, source: "binance", stream: "s", payload: [1]))
        try writer.close()
        let segment = try XCTUnwrap(try LogFixtures.segmentFiles(log.path).first)
        try FileManager.default.copyItem(atPath: segment, toPath: log.appendingPathComponent("99999999999999999999.k2seg").path)
        let run = try ProcessRunner.run(tool, [log.path, "--check"])
        XCTAssertNotEqual(run.status, 0, run.stdoutText)
        XCTAssertTrue(run.stderrText.contains("99999999999999999999.k2seg") && run.stderrText.contains("not a segment id"), run.stderrText)
    }

    // MARK: segment files whose CRCs are valid but whose numbers are not (scripts/make-hostile-segments.py)

    /// A log directory holding fixture `name` as its only segment.
    func logHolding(_ name: String, prefix: String) throws -> (log: URL, segment: String) {
        let log = try TestEnvironment.temporaryDirectory(prefix)
        let segment = log.appendingPathComponent(SegmentFormat.fileName(id: 1)).path
        try FileManager.default.copyItem(atPath: hostile(name).path, toPath: segment)
        return (log, segment)
    }

    /// Everything a reader returns, or the error it stops with.
    func readAll(_ log: URL) throws {
        let reader = try SegmentLogReader(directory: log.path, diagnostics: { _ in })
        while try reader.next() != nil {}
    }

    /// The last 32 bytes of a segment are its footer; its first 8 the index offset.
    func footerFields(_ segment: String) throws -> (footerOffset: Int64, indexOffset: Int64) {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: segment)))
        let footer = bytes.count - SegmentFormat.footerSize
        let indexOffset = bytes[footer..<(footer + 8)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return (Int64(footer), Int64(bitPattern: indexOffset))
    }

    /// Footer, index and block header numbers out of range, each with valid CRCs. They crashed every reader
    /// (SIGILL on offset + length overflowing, SIGABRT reserving 2^31 index entries, SIGILL converting an entry
    /// offset of 2^64-1) or allocated 1 GiB for a payload the file does not have. Now each is corruption:
    /// `--check` and a compaction exit 1 naming the segment and byte offset, a reader throws the same.
    func testOutOfRangeFooterIndexAndBlockNumbersAreCorruptionNamingFileAndOffset() throws {
        let cases: [(fixture: String, offset: (String) throws -> Int64, reason: String)] = [
            ("segment-footer-index-offset-2p63.k2seg", { try self.footerFields($0).footerOffset },
             "segment footer says the index is"),
            ("segment-index-count-7fffffff.k2seg", { try self.footerFields($0).footerOffset },
             "segment footer claims 2147483647 blocks"),
            ("segment-index-entry-offset-2p64.k2seg", { try self.footerFields($0).indexOffset },
             "segment index is malformed"),
            ("segment-block-payload-beyond-file.k2seg", { _ in Int64(SegmentFormat.fileHeaderSize) },
             "past the end of the segment's blocks"),
        ]
        for c in cases {
            let (log, segment) = try logHolding(c.fixture, prefix: "hostile-numbers")
            defer { try? FileManager.default.removeItem(at: log) }
            let offset = try c.offset(segment)
            let place = "\(segment) at byte offset \(offset)"
            let check = try ProcessRunner.run(tool, [log.path, "--check"])
            XCTAssertEqual(check.status, 1, "\(c.fixture): \(check.stdoutText)\(check.stderrText)")
            XCTAssertTrue(check.stdoutText.contains(place) && check.stdoutText.contains(c.reason), "\(c.fixture): \(check.stdoutText)")
            let compact = try ProcessRunner.run(tool, [log.path, "--all"])
            XCTAssertEqual(compact.status, 1, "\(c.fixture): \(compact.stderrText)")
            XCTAssertTrue(compact.stderrText.contains(place) && compact.stderrText.contains(c.reason), "\(c.fixture): \(compact.stderrText)")
            XCTAssertThrowsError(try readAll(log), c.fixture) { error in
                let e = error as? SegmentLogError
                XCTAssertEqual(e?.kind, .corrupt, "\(error)")
                XCTAssertEqual(e?.file, segment, "\(error)")
                XCTAssertEqual(e?.offset, offset, "\(error)")
                XCTAssertTrue("\(error)".contains(c.reason), "\(error)")
            }
        }
    }

    /// Six blocks whose few payload bytes claim 1 GiB uncompressed each (valid CRCs): `--check` allocated 1 GiB
    /// per stream before decompressing (6.1 GB peak). The header is refused before anything is allocated:
    /// lz4 expands a byte into at most 255, zstd into at most 32768 (docs/segment-format.md, Block).
    func testBlocksClaimingAGibibyteFromAFewBytesAreRefusedBeforeAllocating() throws {
        let (log, segment) = try logHolding("segment-blocks-claim-1gib.k2seg", prefix: "hostile-1gib")
        defer { try? FileManager.default.removeItem(at: log) }
        let check = try ChildProcess.runMeasuringPeakMemory(tool, [log.path, "--check"])
        XCTAssertEqual(check.status, 1, check.stdout + check.stderr)
        XCTAssertLessThan(check.peakResidentKiB, 256 * 1024, "peak resident set of k2-compact --check")
        let problems = check.stdout.split(separator: "\n").filter { $0.contains("PROBLEM") && $0.contains("claims 1073741824 uncompressed bytes") }
        XCTAssertEqual(problems.count, 6, check.stdout)
        let offsets = try SegmentScanner.scan(path: segment, id: 1, verifyPayloads: false, lenient: false, diagnostics: { _ in }).blocks.map(\.offset)
        for offset in offsets { XCTAssertTrue(check.stdout.contains("\(segment) at byte offset \(offset)"), check.stdout) }

        let compact = try ChildProcess.runMeasuringPeakMemory(tool, [log.path, "--all"])
        XCTAssertEqual(compact.status, 1, compact.stderr)
        XCTAssertLessThan(compact.peakResidentKiB, 256 * 1024, "peak resident set of k2-compact --all")
        XCTAssertTrue(compact.stderr.contains("\(segment) at byte offset \(offsets[0])") && compact.stderr.contains("claims 1073741824 uncompressed bytes"), compact.stderr)
    }

    /// Corruption errors advised `--skip-corrupt`, an option no program has. They name what exists:
    /// `k2-compact <log> --check` to list all damage, and what a user can do to read the rest.
    func testCorruptionErrorsAdviseWhatExists() throws {
        let (log, segment) = try logHolding("segment-block-payload-beyond-file.k2seg", prefix: "hostile-advice")
        defer { try? FileManager.default.removeItem(at: log) }
        let compact = try ProcessRunner.run(tool, [log.path, "--all"])
        XCTAssertEqual(compact.status, 1, compact.stderrText)
        XCTAssertTrue(compact.stderrText.contains("\(segment) at byte offset \(SegmentFormat.fileHeaderSize)"), compact.stderrText)
        XCTAssertTrue(compact.stderrText.contains("run `k2-compact \(log.path) --check` to list all damage")
                      && compact.stderrText.contains("restore this segment from a backup"), compact.stderrText)
        XCTAssertFalse(compact.stderrText.contains("--skip-corrupt"), compact.stderrText)
        // No message of any program advises it.
        let sources = TestEnvironment.repositoryRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") } ?? []
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            XCTAssertFalse(text.contains("--skip-" + "corrupt"), "Sources/\(file) advises an option no program has")
        }
    }

    // MARK: sequences at 2^64-1

    /// `sequences.high-water` at 2^64-1 made the next writer trap on sequence + 1. It is refused as damage,
    /// naming the file and the mark's byte offset, by a writer and by k2-compact (which raises the marks).
    func testHighWaterMarkAtTheLargestSequenceIsRefusedNotTrapped() throws {
        let log = try TestEnvironment.temporaryDirectory("hostile-high-water")
        defer { try? FileManager.default.removeItem(at: log) }
        var options = SegmentLogWriterOptions()
        options.fsync = .never
        for _ in 0..<2 {   // two segments, so that a compaction has something to merge
            let writer = try SegmentLogWriter(directory: log.path, options: options, diagnostics: { _ in })
            _ = try writer.append(LogRecord(receiveTimeNanos: 1, source: "kraken", stream: "XBT/USD", payload: Array("{}".utf8)))
            try writer.close()
        }
        let fixture = try Data(contentsOf: hostile("sequences-high-water-uint64-max.json"))
        let path = log.appendingPathComponent(SequenceHighWater.fileName).path
        try fixture.write(to: URL(fileURLWithPath: path))
        let offset = try XCTUnwrap(fixture.range(of: Data("18446744073709551615".utf8))).lowerBound

        XCTAssertThrowsError(try SegmentLogWriter(directory: log.path, options: options, diagnostics: { _ in })) { error in
            let e = error as? SegmentLogError
            XCTAssertEqual(e?.kind, .corrupt, "\(error)")
            XCTAssertEqual(e?.file, path, "\(error)")
            XCTAssertEqual(e?.offset, Int64(offset), "\(error)")
            XCTAssertTrue("\(error)".contains("kraken/XBT/USD") && "\(error)".contains("18446744073709551615"), "\(error)")
        }
        let compact = try ProcessRunner.run(tool, [log.path, "--all"])
        XCTAssertEqual(compact.status, 1, compact.stderrText)
        XCTAssertTrue(compact.stderrText.contains("\(path) at byte offset \(offset)"), compact.stderrText)
    }

    /// A segment whose block ends at sequence 2^64-1 (valid CRCs): a writer reopening the log continued that
    /// stream at last + 1 and trapped. It is refused, naming the segment and the block's offset.
    func testSegmentBlockEndingAtTheLargestSequenceIsRefusedByAWriter() throws {
        let (log, segment) = try logHolding("segment-block-last-sequence-uint64-max.k2seg", prefix: "hostile-last-sequence")
        defer { try? FileManager.default.removeItem(at: log) }
        XCTAssertThrowsError(try SegmentLogWriter(directory: log.path, diagnostics: { _ in })) { error in
            let e = error as? SegmentLogError
            XCTAssertEqual(e?.kind, .corrupt, "\(error)")
            XCTAssertEqual(e?.file, segment, "\(error)")
            XCTAssertEqual(e?.offset, Int64(SegmentFormat.fileHeaderSize), "\(error)")
            XCTAssertTrue("\(error)".contains("18446744073709551615"), "\(error)")
        }
    }
}
