import Foundation
import Kafka
import TestSupport
import XCTest

/// docs/library.md's example runs as written: a log of 2,000 trades replayed into the embedded Kafka,
/// backfilled into a table, and the table at parity with the topic.
final class LibraryExampleTests: XCTestCase {
    func testTheDocumentedExampleRunsAndFindsParity() async throws {
        let directory = try TestEnvironment.temporaryDirectory("library-example")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log").path
        let generate = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"),
                                             ["generate-log", "--out", log, "--trades", "2000", "--symbols", "BTCUSDT,ETHUSDT,SOLUSDT"])
        XCTAssertEqual(generate.status, 0, generate.stderrText)
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("market.crypto.trades.binance.raw", partitions: 6, replicationFactor: 1)

        let report = try await backfillAndCheck(log: log, bootstrap: cluster.bootstrap, warehouse: directory.appendingPathComponent("wh").path)
        XCTAssertTrue(report.parity, report.summary.problems.joined(separator: "\n"))
        XCTAssertEqual(report.summary.rows.left, 2000)
        XCTAssertEqual(report.summary.rows.right, 2000)
        XCTAssertEqual(report.sides.left.kind, "iceberg")
    }

    /// The docs quote the example file exactly.
    func testTheDocsQuoteTheExampleFile() throws {
        let source = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("Tests/LibraryExampleTests/BackfillAndCheck.swift"), encoding: .utf8)
        let docs = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("docs/library.md"), encoding: .utf8)
        let example = try XCTUnwrap(source.components(separatedBy: "// example:begin\n").last?.components(separatedBy: "// example:end").first)
        XCTAssertTrue(docs.contains("```swift\n" + example + "```"), "docs/library.md does not quote the example as it is")
    }
}
