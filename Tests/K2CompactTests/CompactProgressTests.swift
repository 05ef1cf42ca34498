import Foundation
import TestSupport
import XCTest

/// Long work is never silent: a rewrite prints progress lines (records read of the planned total, ETA, rate)
/// on stderr; --quiet prints none. K2_PROGRESS_INTERVAL=0 makes a line due at every report, so a run that
/// takes a fraction of a second shows them.
final class CompactProgressTests: XCTestCase {
    func testRewriteShowsProgressAndQuietSilencesIt() throws {
        let directory = try TestEnvironment.temporaryDirectory("k2-compact-progress")
        defer { try? FileManager.default.removeItem(at: directory) }
        let generated = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"),
            ["generate-log", "--out", directory.path + "/log", "--trades", "10000"])
        XCTAssertEqual(generated.status, 0, generated.stderrText)

        let loud = try ProcessRunner.run(TestEnvironment.productPath("k2-compact"), [directory.path + "/log", "--all", "--dry-run"],
                                         environment: ["K2_PROGRESS_INTERVAL": "0"])
        XCTAssertEqual(loud.status, 0, loud.stderrText)
        let lines = loud.stderrText.split(separator: "\n").filter { $0.hasPrefix("k2-compact: progress: records ") }
        // One report per 4096 records and one at the end: 10000 records → 2 + 1.
        XCTAssertEqual(lines.count, 3, loud.stderrText)
        XCTAssertTrue(lines[0].contains("records 4096/~10000 (40%), remaining ~5904, ETA "), String(lines[0]))
        XCTAssertTrue(lines[2].contains("records 10000/~10000 (100%)") && lines[2].hasSuffix(" records/s"), String(lines[2]))

        let quiet = try ProcessRunner.run(TestEnvironment.productPath("k2-compact"), [directory.path + "/log", "--all", "--dry-run", "--quiet"],
                                          environment: ["K2_PROGRESS_INTERVAL": "0"])
        XCTAssertEqual(quiet.status, 0, quiet.stderrText)
        XCTAssertFalse(quiet.stderrText.contains("progress"), quiet.stderrText)
        XCTAssertEqual(quiet.stdoutText, loud.stdoutText)

        // --check counts bytes: a line per segment, the last at all of them.
        let check = try ProcessRunner.run(TestEnvironment.productPath("k2-compact"), [directory.path + "/log", "--check"],
                                          environment: ["K2_PROGRESS_INTERVAL": "0"])
        XCTAssertEqual(check.status, 0, check.stderrText)
        let bytes = try FileManager.default.contentsOfDirectory(atPath: directory.path + "/log").filter { $0.hasSuffix(".k2seg") }
            .reduce(0) { $0 + ((try FileManager.default.attributesOfItem(atPath: directory.path + "/log/" + $1)[.size] as? Int) ?? 0) }
        let checkLines = check.stderrText.split(separator: "\n").filter { $0.hasPrefix("k2-compact: progress: bytes ") }
        XCTAssertEqual(checkLines.last.map { $0.hasPrefix("k2-compact: progress: bytes \(bytes)/~\(bytes) (100%)") }, true, check.stderrText)
        let quietCheck = try ProcessRunner.run(TestEnvironment.productPath("k2-compact"), [directory.path + "/log", "--check", "--quiet"],
                                               environment: ["K2_PROGRESS_INTERVAL": "0"])
        XCTAssertFalse(quietCheck.stderrText.contains("progress"), quietCheck.stderrText)
    }
}
