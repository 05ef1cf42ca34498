import Foundation
import TestSupport
import XCTest

/// k2-replay's progress lines come from the same ProgressMeter as k2-compact's and k2-verify's, at the
/// interval K2_PROGRESS_INTERVAL gives (0: after every 256 records), in the format bench-kafka.sh reads
/// ("messages N, R msg/s"); --quiet prints none.
final class ReplayProgressTests: XCTestCase {
    func testProgressLinesAtTheGivenIntervalAndQuiet() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-progress")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 600, krakenFrames: 0)
        let arguments = ["--from", directory.path, "--bootstrap", "embedded", "--schema-id", "1",
                         "--state-dir", directory.appendingPathComponent("state").path]
        let loud = try ProcessRunner.run(ReplayProcess.path, arguments, environment: ["K2_PROGRESS_INTERVAL": "0"])
        XCTAssertEqual(loud.status, 0, loud.stderrText)
        let lines = loud.stderrText.split(separator: "\n").filter { $0.hasPrefix("k2-replay: records ") }
        XCTAssertFalse(lines.isEmpty, loud.stderrText)
        let pattern = try NSRegularExpression(pattern: #"^k2-replay: records \d+/~\d+ \(\d+%\), remaining ~\d+, ETA \d+s, messages \d+, \d+ msg/s"#)
        for line in lines {
            let text = String(line)
            XCTAssertNotNil(pattern.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)), text)
        }
        XCTAssertGreaterThan(fixture.expected.count, 256)

        let quiet = try ProcessRunner.run(ReplayProcess.path, arguments.dropLast(2) + ["--state-dir", directory.appendingPathComponent("state2").path, "--quiet"],
                                          environment: ["K2_PROGRESS_INTERVAL": "0"])
        XCTAssertEqual(quiet.status, 0, quiet.stderrText)
        XCTAssertFalse(quiet.stderrText.contains("k2-replay: records "), quiet.stderrText)
    }
}
