import Foundation
import TestSupport
import XCTest

/// `make run`'s script (scripts/run.sh) end to end with the debug build, in a temporary directory: the Flink
/// outage and the Spark-style table's duplicated range are found (k2-verify exits 1 naming the ranges, with its
/// HTML report), both tables are repaired from that report, and parity follows. `make run` itself runs the same script on the release build.
final class MakeRunStoryTests: BronzeTableTestCase {
    override class var directoryPrefix: String { "make-run" }

    func testTheOutageIsFoundRepairedAndParityFollows() throws {
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/run.sh").path
        let bin = URL(fileURLWithPath: TestEnvironment.productPath("k2-replay")).deletingLastPathComponent().path
        let run = directory.appendingPathComponent("run").path
        let result = try ProcessRunner.run("/bin/bash", [script], environment: ["K2_BIN": bin, "K2_RUN_DIR": run])
        let output = result.stdoutText + result.stderrText
        XCTAssertEqual(result.status, 0, output)

        // Found: both ranges, exit 1, the reports written.
        let found = try String(contentsOfFile: run + "/parity-binance.txt", encoding: .utf8)
        XCTAssertTrue(found.contains("missing in right: [40, 69]"), found)
        XCTAssertTrue(found.contains("missing in right: [60, 99]"), found)
        XCTAssertTrue(found.contains("duplicates left: [10, 29]x2"), found)
        XCTAssertTrue(output.contains("exit 1; reports: \(run)/parity-binance.json"), output)
        let html = try String(contentsOfFile: run + "/parity-binance.html", encoding: .utf8)
        XCTAssertTrue(html.contains("40") && html.contains("69"), "the HTML report shows the missing range")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/parity-binance.json"))) as! [String: Any]
        XCTAssertEqual(report["parity"] as? Bool, false)
        XCTAssertEqual((report["summary"] as! [String: Any])["missing_in_right_offsets"] as? Int, 70)

        // Repaired: exactly those 70 offsets, then nothing on the rerun; parity after.
        XCTAssertTrue(output.contains("would write 70 offsets, 0 already present"), output)
        XCTAssertTrue(output.contains("wrote 70 offsets (70 rows), 0 already present, 0 lost to retention"), output)
        XCTAssertTrue(output.contains("wrote 0 offsets (0 rows), 70 already present"), output)
        XCTAssertTrue(output.contains("market_data.bronze_binance_trades partition 3: removed 20 extra rows of offsets [10, 29]"), output)
        let after = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: run + "/parity-binance-repaired.json"))) as! [String: Any]
        XCTAssertEqual(after["parity"] as? Bool, true)
        let rows = (after["summary"] as! [String: Any])["rows"] as! [String: Any]
        XCTAssertEqual(rows["left"] as? Int, 240)
        XCTAssertEqual(rows["right"] as? Int, 240)
        XCTAssertTrue(output.contains("exit 0; reports: \(run)/parity-binance-repaired.json"), output)
    }
}
