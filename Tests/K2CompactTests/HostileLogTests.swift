import Foundation
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
}
