import Foundation
import SegmentLog
import TestSupport
import XCTest

/// Long work is never silent: a check prints progress lines (rows read over all sides and passes, rate) on
/// stderr; --quiet prints none. K2_PROGRESS_INTERVAL=0 makes a line due after every chunk read.
final class VerifyProgressTests: XCTestCase {
    func testCheckShowsProgressAndQuietSilencesIt() throws {
        let topic = KafkaSideTests.topic
        let directory = try TestEnvironment.temporaryDirectory("k2-verify-progress")
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try SegmentLogWriter(directory: directory.path) { _ in }
        for index in 0..<3_000 {
            try writer.append(LogRecord(
                receiveTimeNanos: 1_800_000_000_000_000_000 + Int64(index), source: "kafka:\(topic)", stream: "0",
                payload: Array("trade #\(index)".utf8),
                kafka: KafkaCoordinates(partition: 0, offset: Int64(index), timestampMs: KafkaSideTests.base + Int64(index) * 1000,
                                        timestampType: 1, key: Array("BTCUSDT".utf8))))
        }
        try writer.close()
        let arguments = ["--left", "log:\(directory.path)", "--right", "log:\(directory.path)", "--payload"]

        let loud = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"), arguments, environment: ["K2_PROGRESS_INTERVAL": "0"])
        XCTAssertEqual(loud.status, 0, loud.stderrText)
        let rows = loud.stderrText.split(separator: "\n").compactMap { line -> Int? in
            guard line.hasPrefix("k2-verify: progress: rows "), line.hasSuffix(" rows/s") else { return nil }
            return Int(line.dropFirst("k2-verify: progress: rows ".count).prefix { $0.isNumber })
        }
        XCTAssertFalse(rows.isEmpty, loud.stderrText)
        XCTAssertEqual(rows, rows.sorted(), "rows read only grow")
        // Two sides, each read twice (offsets, then payload hashes).
        XCTAssertEqual(rows.last, 4 * 3_000, loud.stderrText)

        let quiet = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"), arguments + ["--quiet"],
                                          environment: ["K2_PROGRESS_INTERVAL": "0"])
        XCTAssertEqual(quiet.status, 0, quiet.stderrText)
        XCTAssertFalse(quiet.stderrText.contains("progress"), quiet.stderrText)
    }
}
