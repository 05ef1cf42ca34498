import Bronze
import Foundation
import Kafka
import TestSupport
import XCTest

/// A replay into Iceberg killed with SIGKILL at random points and run again with the same arguments
/// leaves every source record in the table exactly once.
final class ReplayKillTests: BronzeTableTestCase {
    override class var directoryPrefix: String { "bronze-kill" }

    /// Starts k2-replay, kills it with SIGKILL after `delay` seconds; true when it was still running.
    private func killAfter(_ arguments: [String], delay: Double) throws -> Bool {
        let process = try ProcessRunner.launchSilently(TestEnvironment.productPath("k2-replay"), arguments)
        Thread.sleep(forTimeInterval: delay)
        let running = process.isRunning
        if running { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return running && process.terminationReason == .uncaughtSignal
    }

    private func killAndRerun(_ arguments: [String], iterations: Int, delays: ClosedRange<Double>) throws -> Int {
        var killed = 0
        for _ in 0..<iterations {
            if try killAfter(arguments, delay: Double.random(in: delays)) { killed += 1 }
        }
        let final = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), arguments)
        XCTAssertEqual(final.status, 0, final.stderrText)
        return killed
    }

    /// pyiceberg and duckdb read `table` alike, and it holds each of the fixture's Kafka records exactly once
    /// (by partition and offset) with its value as raw_bytes.
    private func assertEachKafkaRecordOnce(table: String, fixture: BronzeLogFixture, killed: Int,
                                           file: StaticString = #filePath, line: UInt = #line) throws {
        let back = try TableReadBack.read(database: database, warehouse: warehouse, table: table)
        XCTAssertEqual(back.rows, back.duckRows, file: file, line: line)
        let keys = back.rows.map { [$0.partition, $0.offset ?? -1] }
        XCTAssertEqual(keys.count, fixture.kafkaRecords.count, "rows (killed \(killed) times)", file: file, line: line)
        XCTAssertEqual(Set(keys).count, keys.count, "duplicate (partition, offset) after \(killed) kills", file: file, line: line)
        XCTAssertEqual(Set(keys), Set(fixture.kafkaRecords.keys), "missing offsets after \(killed) kills", file: file, line: line)
        for row in back.rows {
            XCTAssertEqual(row.rawHex, fixture.kafkaRecords[[row.partition, row.offset ?? -1]].map { ReplayToIcebergTests.hex($0.value) },
                           file: file, line: line)
        }
    }

    func testKilledFlinkReplayOfKafkaRecordsResumesWithEachOffsetOnce() throws {
        let fixture = try BronzeLogFixture.write(to: log, binanceTrades: 1500, krakenFrames: 0, kafkaPerPartition: 500)
        XCTAssertEqual(fixture.kafkaRecords.count, 1500)
        let table = "market_data.bronze_binance_trades_flink"
        let arguments = ["--from", log, "--to", "iceberg", "--catalog", "sqlite:" + database, "--warehouse", warehouse,
                         "--table", table, "--style", "flink", "--create", "--source", "kafka:" + BronzeLogFixture.kafkaTopic,
                         "--commit-rows", "37", "--rate", "1500", "--quiet"]
        let killed = try killAndRerun(arguments, iterations: TestEnvironment.killRounds(5), delays: 0.3...1.3)
        try assertEachKafkaRecordOnce(table: table, fixture: fixture, killed: killed)
        XCTAssertGreaterThan(killed, 0, "no replay was still running when killed")
    }

    func testKilledSparkReplayOfExchangeLogResumesWithEachTradeOnce() throws {
        let fixture = try BronzeLogFixture.write(to: log, binanceTrades: 1200, krakenFrames: 0, kafkaPerPartition: 0)
        let table = "market_data.bronze_binance_trades"
        let arguments = ["--from", log, "--to", "iceberg", "--catalog", "sqlite:" + database, "--warehouse", warehouse,
                         "--table", table, "--style", "spark", "--create", "--source", "binance", "--schema-id", "7",
                         "--commit-rows", "41", "--rate", "2000", "--quiet"]
        let killed = try killAndRerun(arguments, iterations: TestEnvironment.killRounds(5), delays: 0.3...1.3)
        let back = try TableReadBack.read(database: database, warehouse: warehouse, table: table)
        XCTAssertEqual(back.rows, back.duckRows)
        // Exchange trades carry no offset: each trade id (decoded by fastavro from raw_bytes) must be there once.
        let decoded = back.rows.compactMap(\.decoded).sorted()
        let expected = fixture.binanceTradeIds.flatMap { symbol, ids in ids.map { "\(symbol):\($0)" } }.sorted()
        XCTAssertEqual(back.rows.count, 2400, "rows (killed \(killed) times)")
        XCTAssertEqual(decoded.count, Set(decoded).count, "duplicate trades after \(killed) kills")
        XCTAssertEqual(decoded, expected)
        XCTAssertGreaterThan(killed, 0, "no replay was still running when killed")
    }

    func testKilledKafkaTopicBackfillResumesWithEachOffsetOnce() throws {
        let fixture = try BronzeLogFixture.write(to: log, binanceTrades: 1500, krakenFrames: 0, kafkaPerPartition: 500)
        // The Kafka-captured records go back to their partitions at their offsets (an empty topic).
        let cluster = try fixture.kafkaCluster(log: log, brokers: 3)
        let topic = BronzeLogFixture.kafkaTopic
        let table = "market_data.bronze_binance_trades"
        let arguments = ["--from", "kafka://\(cluster.bootstrap)/\(topic)", "--to", "iceberg", "--catalog", "sqlite:" + database,
                         "--warehouse", warehouse, "--table", table, "--style", "spark", "--create", "--until-end",
                         "--commit-rows", "29", "--rate", "1500", "--quiet"]
        let killed = try killAndRerun(arguments, iterations: TestEnvironment.killRounds(5), delays: 0.3...1.3)
        try assertEachKafkaRecordOnce(table: table, fixture: fixture, killed: killed)
        XCTAssertGreaterThan(killed, 0, "no replay was still running when killed")
    }

    /// The run is the cluster's (by its id), not the address as typed: killed runs started as
    /// `kafka://127.0.0.1:PORT/...` and finished as `kafka://localhost:PORT/...` write each offset once.
    func testKilledBackfillRerunWithAnotherSpellingOfTheBrokersWritesEachOffsetOnce() throws {
        let fixture = try BronzeLogFixture.write(to: log, binanceTrades: 1500, krakenFrames: 0, kafkaPerPartition: 500)
        XCTAssertEqual(fixture.kafkaRecords.count, 1500)
        let cluster = try fixture.kafkaCluster(log: log, brokers: 3)
        let topic = BronzeLogFixture.kafkaTopic
        let port = try XCTUnwrap(cluster.bootstrap.split(separator: ",").first?.split(separator: ":").last)
        let table = "market_data.bronze_binance_trades"
        func arguments(_ host: String) -> [String] {
            ["--from", "kafka://\(host):\(port)/\(topic)", "--to", "iceberg", "--catalog", "sqlite:" + database,
             "--warehouse", warehouse, "--table", table, "--style", "spark", "--create", "--until-end",
             "--commit-rows", "31", "--rate", "500", "--quiet"]
        }
        var killed = 0
        // Start-up takes about a second here: kill after it, once rows are committed (3 s of rows at --rate 500).
        for _ in 0..<2 where try killAfter(arguments("127.0.0.1"), delay: Double.random(in: 1.6...2.4)) { killed += 1 }
        let final = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), arguments("localhost"))
        XCTAssertEqual(final.status, 0, final.stderrText)
        try assertEachKafkaRecordOnce(table: table, fixture: fixture, killed: killed)
        XCTAssertGreaterThan(killed, 0, "no replay was still running when killed")
    }

    /// Two processes, each with its own share (`--shard 0/2`, `--shard 1/2`), append to one table at the
    /// same time: both finish (commit conflicts are retried), and together they wrote every record once.
    func testConcurrentShardsIntoOneTableTogetherWriteEachRecordOnce() throws {
        let fixture = try BronzeLogFixture.write(to: log, binanceTrades: 1200, krakenFrames: 0, kafkaPerPartition: 400)
        let table = "market_data.bronze_binance_trades_flink"
        func arguments(_ shard: String) -> [String] {
            ["--from", log, "--to", "iceberg", "--catalog", "sqlite:" + database, "--warehouse", warehouse, "--table", table,
             "--style", "flink", "--source", "kafka:" + BronzeLogFixture.kafkaTopic, "--commit-rows", "20", "--shard", shard,
             "--quiet", "--json"]
        }
        let create = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), arguments("0/2") + ["--create", "--dry-run"])
        XCTAssertEqual(create.status, 0, create.stderrText)
        let group = DispatchGroup()
        nonisolated(unsafe) var results: [ProcessResult?] = [nil, nil]
        for (index, shard) in ["0/2", "1/2"].enumerated() {
            let shardArguments = arguments(shard) + ["--create"]
            group.enter()
            DispatchQueue.global().async {
                results[index] = try? ProcessRunner.run(TestEnvironment.productPath("k2-replay"), shardArguments)
                group.leave()
            }
        }
        group.wait()
        var rowsPerShard: [Int] = []
        for result in results {
            guard let result else { XCTFail("a shard did not run"); continue }
            XCTAssertEqual(result.status, 0, result.stderrText)
            let summary = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
            rowsPerShard.append(summary?["rows_committed"] as? Int ?? -1)
        }
        XCTAssertEqual(rowsPerShard.reduce(0, +), 1200)
        XCTAssertFalse(rowsPerShard.contains(0), "each shard has a share: \(rowsPerShard)")
        let back = try TableReadBack.read(database: database, warehouse: warehouse, table: table)
        let keys = back.rows.map { [$0.partition, $0.offset ?? -1] }
        XCTAssertEqual(keys.count, 1200)
        XCTAssertEqual(Set(keys), Set(fixture.kafkaRecords.keys))
        XCTAssertEqual(Set(back.snapshotSummaries.compactMap { $0["k2.replay.run-id"] }).count, 2, "one run id per shard")
        // Each shard's progress property survived the other's commits (conflict retries keep other keys).
        let shardRows = back.properties.filter { $0.key.hasPrefix("k2.replay.") && $0.key.hasSuffix(".rows") }
        XCTAssertEqual(shardRows.count, 2, "\(back.properties.keys.sorted())")
        XCTAssertEqual(shardRows.values.compactMap { Int($0) }.sorted(), rowsPerShard.sorted())
    }
}
