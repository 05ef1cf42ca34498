import Foundation
import SegmentLog
import TestSupport
import XCTest

/// The conventions every program follows (issue 15), as `k2-compact` shows them: exit 2 with a JSON error
/// object, `--version`, one size syntax naming the option on error, snake_case JSON reports with their header.
final class K2CompactConventionTests: XCTestCase {
    var tool: String { TestEnvironment.productPath("k2-compact") }

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "build k2-compact first (swift build)")
    }

    func testUnknownOptionExitsTwoWithAJSONErrorObject() throws {
        let result = try ProcessRunner.run(tool, ["/nonexistent/never", "--no-such-option", "--json"])
        XCTAssertEqual(result.status, 2, result.stderrText)
        let error = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stdoutText)
        XCTAssertTrue((error["error"] as? String ?? "").contains("--no-such-option"), result.stdoutText)
        XCTAssertEqual(error["exit_code"] as? Int, 2)
        XCTAssertEqual(error["program"] as? String, "k2-compact")
        XCTAssertNotNil(error["toolkit_version"] as? String)
        XCTAssertEqual(JSONReportKeys.keysNotSnakeCase(error), [])
    }

    func testVersion() throws {
        let result = try ProcessRunner.run(tool, ["--version"])
        XCTAssertEqual(result.status, 0, result.stderrText)
        XCTAssertNotNil(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines).range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression))
    }

    func testSizesParseOneWayAndBadOnesNameTheOption() throws {
        let bad = try ProcessRunner.run(tool, ["/nonexistent/never", "--target-bytes", "12X"])
        XCTAssertEqual(bad.status, 2)
        XCTAssertTrue(bad.stderrText.contains("--target-bytes") && bad.stderrText.contains("12X"), bad.stderrText)
        let help = try ProcessRunner.run(tool, ["--help"])
        XCTAssertTrue(help.stdoutText.contains("(default: 256MiB)"), help.stdoutText)
        XCTAssertFalse(help.stdoutText.contains("(default: 256MiB) (default"), help.stdoutText)
    }

    /// `--check --json` and a compaction's `--json`: every key snake_case, at every depth, with the header.
    func testJSONReportsHaveSnakeCaseKeysAndTheirHeader() throws {
        let dir = try TestEnvironment.temporaryDirectory("compact-conventions").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = SegmentLogWriterOptions()
        options.segmentBytes = 4096
        options.blockBytes = 1024
        options.fsync = .never
        let writer = try SegmentLogWriter(directory: dir, options: options, diagnostics: { _ in })
        for index in 0..<400 {
            let payload = Array(#"{"stream":"btcusdt@trade","data":{"e":"trade","t":\#(index % 300)}}"#.utf8)
            _ = try writer.append(LogRecord(receiveTimeNanos: 1_707_472_723_000_000_000 + Int64(index), source: "binance",
                                            stream: "btcusdt@trade", payload: payload))
        }
        try writer.close()
        for arguments in [[dir, "--check", "--json"], [dir, "--target-bytes", "1m", "--block-bytes", "64KiB", "--json"]] {
            let result = try ProcessRunner.run(tool, arguments)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderrText)")
            let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stdoutText)
            XCTAssertEqual(JSONReportKeys.keysNotSnakeCase(report), [], "\(arguments)")
            XCTAssertEqual(report["program"] as? String, "k2-compact")
            XCTAssertNotNil(report["toolkit_version"] as? String)
            XCTAssertEqual(report["report_format"] as? Int, 2)
        }
    }
}

extension K2CompactConventionTests {
    /// Every example of `k2-compact --help` runs as written, on a log of its own in place of var/capture.
    func testHelpExamplesRunAsWritten() throws {
        let help = try ProcessRunner.run(tool, ["--help"], environment: ["COLUMNS": "1000"])
        let examples = help.stdoutText.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("k2-compact ") }
        XCTAssertGreaterThanOrEqual(examples.count, 4, help.stdoutText)
        for example in examples {
            let dir = try TestEnvironment.temporaryDirectory("compact-example").path
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let writer = try SegmentLogWriter(directory: dir, diagnostics: { _ in })
            for index in 0..<50 {
                _ = try writer.append(LogRecord(receiveTimeNanos: 1_707_472_723_000_000_000 + Int64(index), source: "kraken",
                                                stream: "XBT/USD", payload: Array("frame \(index)".utf8)))
            }
            try writer.close()
            let arguments = example.split(separator: " ").dropFirst().map { $0 == "var/capture" ? dir : String($0) }
            let result = try ProcessRunner.run(tool, arguments)
            XCTAssertEqual(result.status, 0, "\(example): \(result.stderrText)")
        }
    }
}
