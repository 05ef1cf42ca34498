import Foundation
import Iceberg
import Kafka
import TestSupport
import XCTest

/// `--follow`: a Kafka -> Iceberg backfill without end offsets follows a topic that keeps growing, committing
/// every --commit-rows rows or --commit-seconds; killed with SIGKILL and run again it resumes after the last
/// committed offset, so each offset of the topic ends up in the table once.
final class FollowModeTests: BronzeTableTestCase {
    override class var directoryPrefix: String { "bronze-follow" }
    let topic = "market.crypto.trades.binance.raw"

    /// The table's rows as its current snapshot's summary counts them (0 before it exists).
    private func committedRows(_ table: String) throws -> Int {
        let opener = CatalogOpener(catalog: "sqlite:" + database, warehouse: warehouse)
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var rows = 0
        Task {
            if let catalog = try? await opener.open(), let loaded = try? await catalog.loadTable(try TableIdentifier(table)) {
                rows = Int(loaded.metadata.currentSnapshot?.summary["total-records"] ?? "") ?? 0
            }
            done.signal()
        }
        done.wait()
        return rows
    }

    /// Produces `count` messages (values `follow-N`) over the topic's 3 partitions, N from `start`.
    private func produce(_ producer: KafkaProducer, from start: Int, count: Int) throws {
        for n in start..<(start + count) {
            try producer.produce(topic: topic, partition: Int32(n % 3), key: Array("K\(n % 5)".utf8), value: Array("follow-\(n)".utf8),
                                 timestampMs: 1_760_000_000_000 + Int64(n))
        }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))
    }

    private func waitFor(_ what: String, seconds: Int = 60, _ condition: () throws -> Bool) throws {
        for _ in 0..<(seconds * 10) {
            if try condition() { return }
            usleep(100_000)
        }
        XCTFail("timed out waiting for \(what)")
    }

    func testFollowingAGrowingTopicKilledAndResumedWritesEachOffsetOnce() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        try cluster.createTopic(topic, partitions: 3)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        try produce(producer, from: 0, count: 600)
        let table = "market_data.bronze_binance_trades"
        let arguments = ["--from", "kafka://\(cluster.bootstrap)/\(topic)", "--to", "iceberg", "--catalog", "sqlite:" + database,
                         "--warehouse", warehouse, "--table", table, "--style", "spark", "--create", "--follow",
                         "--commit-rows", "40", "--commit-seconds", "0.5", "--rate", "400", "--quiet"]
        let replay = TestEnvironment.productPath("k2-replay")

        // The first run follows while the topic grows, and is killed once it has committed part of it.
        let first = try ProcessRunner.launchSilently(replay, arguments)
        try produce(producer, from: 600, count: 400)
        try waitFor("a first commit") { try committedRows(table) >= 200 }
        XCTAssertTrue(first.isRunning, "a follow run does not end at the end of the topic")
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        let committedAtKill = try committedRows(table)
        XCTAssertLessThan(committedAtKill, 1000, "killed before it caught up")

        // More arrives while nothing follows; the rerun resumes after the last commit and follows the rest.
        try produce(producer, from: 1000, count: 500)
        let second = try ProcessRunner.launchSilently(replay, arguments)
        try produce(producer, from: 1500, count: 500)
        try waitFor("the rerun to catch up with the 2,000 messages") { try committedRows(table) >= 2000 }
        usleep(1_500_000)   // a further commit period: nothing more may come
        XCTAssertTrue(second.isRunning, "still following")
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        XCTAssertEqual(second.terminationStatus, 130, "stopped by SIGTERM: exit 130, what was read committed")

        let back = try TableReadBack.read(database: database, warehouse: warehouse, table: table)
        let keys = back.rows.map { [$0.partition, $0.offset ?? -1] }
        XCTAssertEqual(keys.count, 2000, "rows (first run committed \(committedAtKill) before the kill)")
        XCTAssertEqual(Set(keys).count, keys.count, "an offset written twice")
        var expected = Set<[Int64]>()
        for partition in 0..<3 { for offset in 0..<Int64((2000 - partition + 2) / 3) { expected.insert([Int64(partition), offset]) } }
        XCTAssertEqual(Set(keys), expected)
        // Each row holds its message: partition p, offset o is message 3·o + p.
        for row in back.rows {
            let n = 3 * (row.offset ?? 0) + row.partition
            XCTAssertEqual(row.rawHex, ReplayToIcebergTests.hex(Array("follow-\(n)".utf8)))
        }
        // The rerun resumed: more than one commit per run, each carrying the run's progress.
        XCTAssertGreaterThan(back.snapshotSummaries.filter { $0["k2.replay.progress"] != nil }.count, 2)
    }
}
