import Foundation
@testable import SegmentLog
import TestSupport
import XCTest

/// A compaction that runs out of disk space (a real ENOSPC, on a small tmpfs) fails naming the output file and
/// offset, leaves the log as it was, and removes its `.k2seg.tmp` outputs at once instead of leaving them for
/// the next run to roll back. Skipped where this process may not mount a tmpfs.
final class NoSpaceTests: XCTestCase {
    func testCompactionOutOfSpaceRemovesItsTemporariesAndKeepsTheLog() throws {
        guard let mount = try TestEnvironment.mountTmpfs(bytes: 1 << 20, "k2compact-enospc") else {
            throw XCTSkip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
        }
        defer { TestEnvironment.unmountTmpfs(mount) }
        let log = mount.appendingPathComponent("log").path
        // About 600 KB of incompressible records in small segments: a rewrite needs as much again, more than
        // the 1 MiB file system has left.
        var options = SegmentLogWriterOptions()
        options.codec = .none
        options.blockBytes = 8 << 10
        options.segmentBytes = 48 << 10
        options.fsync = .never
        var rng = SystemRandomNumberGenerator()
        let writer = try SegmentLogWriter(directory: log, options: options, diagnostics: { _ in })
        for i in 0..<1_900 {
            let payload = (0..<300).map { _ in UInt8.random(in: 0...255, using: &rng) }
            _ = try writer.append(LogRecord(receiveTimeNanos: 1_000 + Int64(i), source: "binance", stream: "btcusdt@trade", payload: payload))
        }
        try writer.close()
        let before = try FileManager.default.contentsOfDirectory(atPath: log).sorted()
        XCTAssertGreaterThan(before.filter { $0.hasSuffix(".k2seg") }.count, 5)
        let sizeBefore = try before.reduce(Int64(0)) { $0 + (try FileManager.default.attributesOfItem(atPath: log + "/" + $1)[.size] as! Int64) }
        XCTAssertGreaterThan(sizeBefore, 520_000)

        let run = try ProcessRunner.run(TestEnvironment.productPath("k2-compact"), [log, "--all", "--codec", "none", "--no-dedup"])
        XCTAssertEqual(run.status, 2, run.stdoutText + run.stderrText)
        XCTAssertTrue(run.stderrText.contains(".k2seg.tmp at byte offset") && run.stderrText.contains("No space left on device"),
                      run.stderrText)
        // Nothing temporary left behind, the log exactly as it was.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: log).sorted(), before)
        let reader = try SegmentLogReader(directory: log, diagnostics: { _ in })
        var sequences: [UInt64] = []
        while let record = try reader.next() { sequences.append(record.sequence) }
        XCTAssertEqual(sequences, Array(1...1_900))
        XCTAssertEqual(reader.statistics.corruptBlocksSkipped, 0)

        // Room again: the rerun compacts, and leaves no temporary file either.
        try TestEnvironment.resizeTmpfs(mount, bytes: 16 << 20)
        let rerun = try ProcessRunner.run(TestEnvironment.productPath("k2-compact"), [log, "--all", "--codec", "none", "--no-dedup"])
        XCTAssertEqual(rerun.status, 0, rerun.stdoutText + rerun.stderrText)
        let after = try FileManager.default.contentsOfDirectory(atPath: log)
        XCTAssertEqual(after.filter { $0.hasSuffix(".tmp") || $0.hasPrefix("compaction") }, [])
        XCTAssertLessThan(after.filter { $0.hasSuffix(".k2seg") }.count, before.filter { $0.hasSuffix(".k2seg") }.count)
        let compacted = try SegmentLogReader(directory: log, diagnostics: { _ in })
        var resequenced: [UInt64] = []
        while let record = try compacted.next() { resequenced.append(record.sequence) }
        XCTAssertEqual(resequenced, Array(1...1_900), "every record once after the rerun")
    }
}
