import Bronze
import Foundation
import Kafka
import TestSupport
import XCTest

/// `k2-replay --repair REPORT`: the Flink-was-down job. A Flink-style table misses offset ranges (its job was
/// down), k2-verify reports them, the repair writes exactly those offsets from Kafka, a rerun writes nothing,
/// and k2-verify then reports parity; pyiceberg and duckdb read every offset once.
final class RepairFromReportTests: BronzeTableTestCase {
    override class var directoryPrefix: String { "bronze-repair" }

    private let topic = "market.crypto.trades.binance.raw"
    private let spark = "market_data.bronze_binance_trades"
    private let flink = "market_data.bronze_binance_trades_flink"

    private func tableArguments(_ table: String, style: String, from bootstrap: String) -> [String] {
        ["--from", "kafka://\(bootstrap)/\(topic)", "--to", "iceberg", "--catalog", "sqlite:" + database, "--warehouse", warehouse,
         "--table", table, "--style", style]
    }

    /// k2-verify of the two tables with Kafka as the truth; its JSON report goes to `json`.
    private func verify(_ bootstrap: String, json: String) throws -> ProcessResult {
        let result = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"), [
            "--catalog", "sqlite:" + database, "--left", spark, "--right", flink, "--truth", "kafka://\(bootstrap)/\(topic)", "--json",
        ])
        try result.stdout.write(to: URL(fileURLWithPath: json))
        return result
    }

    /// `count` values per partition, each naming its partition and index.
    private func produce(_ cluster: EmbeddedKafkaCluster, partitions: Int32, count: Int, filler: Int = 16) throws {
        try cluster.createTopic(topic, partitions: partitions, replicationFactor: 1)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        config.set("linger.ms", "0")
        config.set("compression.type", "none")
        let producer = try KafkaProducer(config: config)
        let pad = [UInt8](repeating: 0x2e, count: filler)
        for index in 0..<count {
            for partition in 0..<partitions {
                try producer.produce(topic: topic, partition: partition, key: Array("BTCUSDT".utf8),
                                     value: Array("p\(partition) #\(index) ".utf8) + pad)
            }
        }
        XCTAssertTrue(producer.flush(timeoutMs: 60_000))
    }

    func testFlinkOutageFoundRepairedExactlyAndARerunWritesNothing() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try produce(cluster, partitions: 2, count: 300)
        let bootstrap = cluster.bootstrap
        // The Spark job saw everything; the Flink job was down for offsets 100-199 of partition 0 and 40-59 of 1.
        var run = try ReplayRunner.run(tableArguments(spark, style: "spark", from: bootstrap) + ["--create", "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderrText)
        run = try ReplayRunner.run(tableArguments(flink, style: "flink", from: bootstrap)
                                   + ["--create", "--quiet", "--offsets", "0:earliest-99,0:200-,1:0+40,1:60-"])
        XCTAssertEqual(run.status, 0, run.stderrText)

        let report = directory.appendingPathComponent("report.json").path
        var check = try verify(bootstrap, json: report)
        XCTAssertEqual(check.status, 1, "the outage must be found: " + check.stderrText)
        let found = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as! [String: Any]
        let missing = (found["partitions"] as! [[String: Any]]).reduce(into: [Int: [[Int]]]()) {
            $0[$1["partition"] as! Int] = $1["missing_in_right"] as? [[Int]]
        }
        XCTAssertEqual(missing[0], [[100, 199]])
        XCTAssertEqual(missing[1], [[40, 59]])

        // A dry run says what it would write and writes nothing.
        let repair = tableArguments(flink, style: "flink", from: bootstrap) + ["--repair", report]
        let dry = try ReplayRunner.run(repair + ["--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderrText)
        XCTAssertTrue(dry.stderrText.contains("\(topic) [0]: would write [100, 199]"), dry.stderrText)
        XCTAssertTrue(dry.stderrText.contains("\(topic) [1]: would write [40, 59]"), dry.stderrText)
        XCTAssertEqual(try TableReadBack.read(database: database, warehouse: warehouse, table: flink).rows.count, 600 - 120)

        let done = try ReplayRunner.run(repair + ["--json", "--quiet"])
        XCTAssertEqual(done.status, 0, done.stderrText)
        let result = try JSONSerialization.jsonObject(with: done.stdout) as! [String: Any]
        XCTAssertEqual(result["rows_written"] as? Int, 120)
        XCTAssertEqual(result["offsets_to_write"] as? Int, 120)
        XCTAssertEqual(result["offsets_lost_to_retention"] as? Int, 0)

        // Rerun: the table holds them now; nothing is written, and a dry run warns that they are there.
        let again = try ReplayRunner.run(repair + ["--json", "--quiet"])
        XCTAssertEqual(again.status, 0, again.stderrText)
        let second = try JSONSerialization.jsonObject(with: again.stdout) as! [String: Any]
        XCTAssertEqual(second["rows_written"] as? Int, 0)
        XCTAssertEqual(second["offsets_already_present"] as? Int, 120)
        let warned = try ReplayRunner.run(repair + ["--dry-run"])
        XCTAssertTrue(warned.stderrText.contains("already holds 100 of the offsets the report lists as missing in \(topic) [0]: [100, 199]"),
                      warned.stderrText)

        check = try verify(bootstrap, json: report)
        XCTAssertEqual(check.status, 0, "parity after the repair: " + check.stderrText)
        let back = try TableReadBack.read(database: database, warehouse: warehouse, table: flink)
        for rows in [back.rows, back.duckRows] {
            let keys = rows.map { "\($0.partition)/\($0.offset!)" }
            XCTAssertEqual(keys.count, 600)
            XCTAssertEqual(Set(keys).count, 600, "each offset once")
        }
    }

    /// A report made before retention removed some of the offsets it lists: the repair writes what Kafka still
    /// holds, lists the rest as lost to retention and exits 1. The mock cluster keeps about 5 MB per partition.
    func testOffsetsRetentionRemovedSinceTheReportAreListedAndTheRestWritten() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try produce(cluster, partitions: 1, count: 1_400, filler: 5_000)
        let bootstrap = cluster.bootstrap
        var config = KafkaConfig()
        config.set("bootstrap.servers", bootstrap)
        let (low, high) = try KafkaConsumer(config: config).watermarks(topic: topic, partition: 0)
        XCTAssertGreaterThan(low, 0, "the mock cluster was expected to drop its oldest messages beyond 5 MB")
        XCTAssertEqual(high, 1_400)

        var run = try ReplayRunner.run(tableArguments(spark, style: "spark", from: bootstrap) + ["--create", "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderrText)
        run = try ReplayRunner.run(tableArguments(flink, style: "flink", from: bootstrap)
                                   + ["--create", "--quiet", "--offsets", "earliest-\(high - 201)"])
        XCTAssertEqual(run.status, 0, run.stderrText)
        let report = directory.appendingPathComponent("report.json").path
        XCTAssertEqual(try verify(bootstrap, json: report).status, 1)
        // As if the report had been made a week earlier, when Kafka still held the first offsets too.
        var found = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report))) as! [String: Any]
        var partitions = found["partitions"] as! [[String: Any]]
        XCTAssertEqual(partitions[0]["missing_in_right"] as? [[Int]], [[Int(high) - 200, Int(high) - 1]])
        partitions[0]["missing_in_right"] = [[0, 9], [Int(high) - 200, Int(high) - 1]]
        found["partitions"] = partitions
        try JSONSerialization.data(withJSONObject: found).write(to: URL(fileURLWithPath: report))

        let repair = try ReplayRunner.run(tableArguments(flink, style: "flink", from: bootstrap) + ["--repair", report, "--json"])
        XCTAssertEqual(repair.status, 1, "offsets lost to retention make the repair incomplete: " + repair.stderrText)
        XCTAssertTrue(repair.stderrText.contains("offsets [0, 9] are not in Kafka"), repair.stderrText)
        let result = try JSONSerialization.jsonObject(with: repair.stdout) as! [String: Any]
        XCTAssertEqual(result["offsets_lost_to_retention"] as? Int, 10)
        XCTAssertEqual(result["rows_written"] as? Int, 200)
        let entry = (result["partitions"] as! [[String: Any]])[0]
        XCTAssertEqual(entry["lost_to_retention"] as? [[Int]], [[0, 9]])
        XCTAssertEqual(entry["to_write"] as? [[Int]], [[Int(high) - 200, Int(high) - 1]])
    }

    /// The same repair from a backup of the topic (`k2-capture kafka`): the log's records keep their partitions and
    /// offsets, so exactly the missing ones are written from it, with no Kafka at hand.
    func testRepairFromACaptureLogOfTheTopic() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try produce(cluster, partitions: 2, count: 200)
        let bootstrap = cluster.bootstrap
        let backup = directory.appendingPathComponent("backup").path
        let capture = try ProcessRunner.run(TestEnvironment.productPath("k2-capture"), [
            "kafka", "--bootstrap", bootstrap, "--topic", topic, "--until-end", "--out", backup, "--json"])
        XCTAssertEqual(capture.status, 0, capture.stderrText)
        var run = try ReplayRunner.run(tableArguments(spark, style: "spark", from: bootstrap) + ["--create", "--quiet"])
        XCTAssertEqual(run.status, 0, run.stderrText)
        run = try ReplayRunner.run(tableArguments(flink, style: "flink", from: bootstrap)
                                   + ["--create", "--quiet", "--offsets", "0:earliest-49,0:150-,1:earliest-"])
        XCTAssertEqual(run.status, 0, run.stderrText)
        let report = directory.appendingPathComponent("report.json").path
        XCTAssertEqual(try verify(bootstrap, json: report).status, 1)

        let fromLog = ["--from", backup, "--to", "iceberg", "--catalog", "sqlite:" + database, "--warehouse", warehouse,
                       "--table", flink, "--style", "flink", "--repair", report]
        let repair = try ReplayRunner.run(fromLog + ["--json", "--quiet"])
        XCTAssertEqual(repair.status, 0, repair.stderrText)
        let result = try JSONSerialization.jsonObject(with: repair.stdout) as! [String: Any]
        XCTAssertEqual(result["rows_written"] as? Int, 100)
        XCTAssertEqual((result["partitions"] as! [[String: Any]])[0]["to_write"] as? [[Int]], [[50, 149]])
        let again = try JSONSerialization.jsonObject(with: try ReplayRunner.run(fromLog + ["--json", "--quiet"]).stdout) as! [String: Any]
        XCTAssertEqual(again["rows_written"] as? Int, 0)
        XCTAssertEqual(try verify(bootstrap, json: report).status, 0, "parity after the repair from the log")
        let back = try TableReadBack.read(database: database, warehouse: warehouse, table: flink)
        XCTAssertEqual(Set(back.rows.map { "\($0.partition)/\($0.offset!)" }).count, 400)
        XCTAssertEqual(back.rows.count, 400)
    }
}
