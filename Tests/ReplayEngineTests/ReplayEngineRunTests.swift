import K2Core
import Bronze
import Foundation
import Iceberg
import K2CLI
import Kafka
import XCTest
@testable import Replay

/// Whole replays through the library's entry point, in this process.
final class ReplayEngineRunTests: XCTestCase {
    private let topic = "market.crypto.trades.binance.raw"

    func testLogIntoKafkaLandsEveryMessageWhereK2sPartitionerSays() throws {
        let fixture = try ReplayLogFixture.write(trades: 600)
        defer { fixture.remove() }
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic(topic, partitions: 4, replicationFactor: 1)
        let state = fixture.directory + "-state"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let notes = CollectedNotes()
        let report = try ReplayEngine(configuration: fixture.configuration(cluster: cluster, stateDirectory: state),
                                      stop: CancellationSignal(), diagnostics: notes.diagnostics).run()
        XCTAssertFalse(report.interrupted)
        XCTAssertEqual(report.records, 600)
        XCTAssertEqual(report.messages, 600)

        var expected = [Int64](repeating: 0, count: 4)
        for (index, symbol) in fixture.symbols.enumerated() {
            let partition = try XCTUnwrap(K2Partitioner.partition(key: symbol, partitionCount: 4))
            expected[Int(partition)] += Int64((600 - index + fixture.symbols.count - 1) / fixture.symbols.count)
        }
        XCTAssertEqual(try ReplayLogFixture.highWatermarks(cluster, topic: topic, partitions: 4), expected)

        // The report's per-partition counts: objects with topic and partition, in order.
        let json = try JSONSerialization.jsonObject(with: JSONReport.encode(report, program: "k2-replay", format: 1)) as! [String: Any]
        XCTAssertEqual(json["records_read"] as? Int, 600)
        XCTAssertEqual(json["interrupted"] as? Bool, false)
        let perPartition = try XCTUnwrap(json["per_partition"] as? [[String: Any]])
        XCTAssertEqual(perPartition.map { $0["partition"] as! Int }, expected.indices.filter { expected[$0] > 0 })
        XCTAssertEqual(perPartition.map { Int64($0["produced"] as! Int) }, expected.filter { $0 > 0 })
        XCTAssertTrue(perPartition.allSatisfy { $0["topic"] as? String == topic })
    }

    func testTimeBoundsSelectReceiveTimesSinceInclusiveUntilExclusive() throws {
        let fixture = try ReplayLogFixture.write(trades: 100)
        defer { fixture.remove() }
        var configuration = ReplayConfiguration(origin: .segmentLog(directory: fixture.directory))
        configuration.dryRun = true
        configuration.format = .json
        configuration.sinceNanos = fixture.startNanos + 10 * 1_000_000   // record 10
        configuration.untilNanos = fixture.startNanos + 30 * 1_000_000   // up to record 29
        let report = try ReplayEngine(configuration: configuration, stop: CancellationSignal(), diagnostics: { _ in }).run()
        XCTAssertEqual(report.details["would_produce"], .int(20))
        let partitions = Set(fixture.symbols.map { K2Partitioner.partition(key: $0, partitionCount: 6)! })
        XCTAssertEqual(report.plan.count, partitions.count, "a line per partition: \(report.plan)")
    }

    func testAStopRequestedBeforeTheRunReadsNothingAndSaysInterrupted() throws {
        let fixture = try ReplayLogFixture.write(trades: 100)
        defer { fixture.remove() }
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic(topic, partitions: 4, replicationFactor: 1)
        let state = fixture.directory + "-state"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let stop = CancellationSignal()
        stop.cancel()
        XCTAssertTrue(stop.isCancelled)
        let report = try ReplayEngine(configuration: fixture.configuration(cluster: cluster, stateDirectory: state),
                                      stop: stop, diagnostics: { _ in }).run()
        XCTAssertTrue(report.interrupted)
        XCTAssertEqual(report.records, 0)
        XCTAssertEqual(try ReplayLogFixture.highWatermarks(cluster, topic: topic, partitions: 4).reduce(0, +), 0)
    }

    /// Stopped while producing (paced, so it is still running), the run flushes what it produced and says so;
    /// a rerun delivers the rest, each message once.
    func testAStopWhileRunningEndsTheRunAndARerunCompletesIt() throws {
        let fixture = try ReplayLogFixture.write(trades: 1000)
        defer { fixture.remove() }
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic(topic, partitions: 4, replicationFactor: 1)
        let state = fixture.directory + "-state"
        defer { try? FileManager.default.removeItem(atPath: state) }
        var configuration = fixture.configuration(cluster: cluster, stateDirectory: state)
        configuration.pacing = .rate(perSecond: 500, burst: 1)
        let stop = CancellationSignal()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { stop.cancel() }
        let notes = CollectedNotes()
        let report = try ReplayEngine(configuration: configuration, stop: stop, diagnostics: notes.diagnostics).run()
        XCTAssertTrue(report.interrupted)
        XCTAssertGreaterThan(report.records, 0)
        XCTAssertLessThan(report.records, 1000)
        XCTAssertTrue(notes.contains("interrupted after \(report.records) records"), "\(notes.all)")
        let delivered = try ReplayLogFixture.highWatermarks(cluster, topic: topic, partitions: 4).reduce(0, +)
        XCTAssertEqual(delivered, Int64(report.messages), "what was produced was flushed before the run ended")

        configuration.pacing = .unpaced
        let rest = try ReplayEngine(configuration: configuration, stop: CancellationSignal(), diagnostics: { _ in }).run()
        XCTAssertFalse(rest.interrupted)
        XCTAssertEqual(rest.details["produced"], .int(1000 - report.messages))
        XCTAssertEqual(try ReplayLogFixture.highWatermarks(cluster, topic: topic, partitions: 4).reduce(0, +), 1000)
    }

    func testStopSignalIsSafeFromManyThreads() {
        let stop = CancellationSignal()
        DispatchQueue.concurrentPerform(iterations: 1000) { _ in stop.cancel() }
        XCTAssertEqual(stop.requestCount, 1000)
    }

    /// The run id of a log into Iceberg comes from parsed values: two spellings of one instant, one run.
    func testIcebergRunIdentityHashesParsedTimes() throws {
        func runId(since: String) throws -> String {
            var configuration = ReplayConfiguration(origin: .segmentLog(directory: "/logs/a"))
            configuration.target = .iceberg
            configuration.sources = ["kraken", "binance"]
            configuration.sinceNanos = TimeParser.epochNanoseconds(since)
            let context = ReplayContext(configuration: configuration, stop: CancellationSignal(), diagnostics: { _ in })
            return try RunIdentity.iceberg(context, table: TableIdentifier("market_data.t"), style: .spark).current
        }
        XCTAssertEqual(try runId(since: "2024-02-09"), try runId(since: "2024-02-09T00:00:00Z"))
        XCTAssertEqual(try runId(since: "2024-02-09"), try runId(since: "1707436800"))
        XCTAssertNotEqual(try runId(since: "2024-02-09"), try runId(since: "2024-02-10"))
    }
}
