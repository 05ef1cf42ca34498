import Foundation
import Kafka
import TestSupport
import XCTest

/// `k2-verify` with Kafka sides: two embedded clusters (librdkafka's mock brokers on loopback) hold the
/// same topic; the child process reads both over real sockets.
final class KafkaSideTests: XCTestCase {
    static let topic = "market.crypto.trades.binance.raw"
    static let base: Int64 = 1_707_472_800_000   // 2024-02-09T10:00:00Z, ms

    /// Produces `count[partition]` records per partition, one per second of Kafka time; `changed` offsets
    /// get a different value.
    static func fill(_ cluster: EmbeddedKafkaCluster, counts: [Int32: Int], changed: [Int32: Set<Int>] = [:]) throws {
        try cluster.createTopic(Self.topic, partitions: Int32(counts.count), replicationFactor: 1)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        for (partition, count) in counts {
            for index in 0..<count {
                var value: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x01]
                value += Array("trade p\(partition) #\(index)\(changed[partition]?.contains(index) == true ? " altered" : "")".utf8)
                try producer.produce(topic: Self.topic, partition: partition, key: Array("BTCUSDT".utf8), value: value,
                                     timestampMs: Self.base + Int64(index) * 1000)
            }
        }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))
        XCTAssertEqual(producer.failedCount, 0)
    }

    func verify(_ arguments: [String]) throws -> (status: Int32, json: [String: Any]?, result: ProcessResult) {
        let result = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"), arguments)
        let json = try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        return (result.status, json, result)
    }

    func testTopicsWithATailMissingAndAChangedValue() throws {
        let left = try EmbeddedKafkaCluster(brokers: 1)
        let right = try EmbeddedKafkaCluster(brokers: 1)
        try Self.fill(left, counts: [0: 500, 1: 500])
        try Self.fill(right, counts: [0: 500, 1: 450], changed: [0: [100, 101]])
        let run = try verify(["--left", "kafka://\(left.bootstrap)/\(Self.topic)", "--right", "kafka://\(right.bootstrap)/\(Self.topic)",
                              "--payload", "--json"])
        XCTAssertEqual(run.status, 1, run.result.stderrText)
        let json = try XCTUnwrap(run.json, run.result.stdoutText)
        XCTAssertEqual(json["parity"] as? Bool, false)
        let partitions = try XCTUnwrap(json["partitions"] as? [[String: Any]])
        XCTAssertEqual(partitions.count, 2)
        let byNumber = Dictionary(uniqueKeysWithValues: partitions.map { ($0["partition"] as! Int, $0) })
        XCTAssertEqual(byNumber[0]?["payload_mismatches"] as? [[Int]], [[100, 101]])
        XCTAssertEqual(byNumber[0]?["missing_in_left"] as? [[Int]], [])
        XCTAssertEqual(byNumber[0]?["missing_in_right"] as? [[Int]], [])
        XCTAssertEqual(byNumber[1]?["missing_in_right"] as? [[Int]], [[450, 499]])
        XCTAssertEqual(byNumber[1]?["missing_in_left"] as? [[Int]], [])
        XCTAssertEqual(byNumber[1]?["payload_mismatches"] as? [[Int]], [])
        for partition in partitions {
            XCTAssertEqual((partition["duplicates_left"] as? [[String: Any]])?.count, 0)
            XCTAssertEqual((partition["duplicates_right"] as? [[String: Any]])?.count, 0)
            XCTAssertEqual((partition["left"] as? [String: Any])?["retention_floor"] as? Int, 0)
        }
        let summary = try XCTUnwrap(json["summary"] as? [String: Any])
        XCTAssertEqual((summary["problems"] as? [String])?.count, 2)
        XCTAssertEqual((json["counts_by_hour"] as? [String: Any])?["left"] as? [String: Int], ["2024-02-09T10:00Z": 1_000])

        // The same check as a table on stdout: mismatches first, then the summary line.
        let text = try verify(["--left", "kafka://\(left.bootstrap)/\(Self.topic)", "--right", "kafka://\(right.bootstrap)/\(Self.topic)", "--payload"])
        XCTAssertEqual(text.status, 1)
        XCTAssertTrue(text.result.stdoutText.contains("missing in right: [450, 499]"), text.result.stdoutText)
        XCTAssertTrue(text.result.stdoutText.contains("payload differs: [100, 101]"), text.result.stdoutText)
        XCTAssertTrue(text.result.stdoutText.split(separator: "\n").last!.hasPrefix("MISMATCH: 2 partition(s), 2 mismatched"))
    }

    func testSameRecordsAreParityAndScopeApplies() throws {
        let left = try EmbeddedKafkaCluster(brokers: 1)
        let right = try EmbeddedKafkaCluster(brokers: 1)
        try Self.fill(left, counts: [0: 300, 1: 300, 2: 10])
        try Self.fill(right, counts: [0: 300, 1: 250, 2: 10])
        let sides = ["--left", "kafka://\(left.bootstrap)/\(Self.topic)", "--right", "kafka://\(right.bootstrap)/\(Self.topic)"]
        // Partition 1 differs, but only partitions 0 and 2 are checked.
        let run = try verify(sides + ["--payload", "--json", "--partitions", "0,2"])
        XCTAssertEqual(run.status, 0, run.result.stderrText + run.result.stdoutText)
        XCTAssertEqual(run.json?["parity"] as? Bool, true)
        XCTAssertEqual((run.json?["partitions"] as? [[String: Any]])?.map { $0["partition"] as! Int }.sorted(), [0, 2])
        // Time scope: 10:00:00 to 10:04:10 holds offsets 0-249 of each partition (one per second).
        let timed = try verify(sides + ["--json", "--since", "2024-02-09T10:00:00Z", "--until", "2024-02-09T10:04:10Z"])
        XCTAssertEqual(timed.status, 0, timed.result.stderrText + timed.result.stdoutText)
        let summary = try XCTUnwrap(timed.json?["summary"] as? [String: Any])
        XCTAssertEqual((summary["rows"] as? [String: Any])?["left"] as? Int, 250 + 250 + 10)
    }

    func testUnusableSidesExitTwoAndSayWhy() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try Self.fill(cluster, counts: [0: 5])
        let missingTopic = try verify(["--left", "kafka://\(cluster.bootstrap)/\(Self.topic)", "--right", "kafka://\(cluster.bootstrap)/no.such.topic"])
        XCTAssertEqual(missingTopic.status, 2)
        XCTAssertTrue(missingTopic.result.stderrText.contains("no.such.topic: topic not found"), missingTopic.result.stderrText)
        let badSide = try verify(["--left", "bronze_without_namespace", "--right", "kafka://\(cluster.bootstrap)/\(Self.topic)"])
        XCTAssertEqual(badSide.status, 2)
        XCTAssertTrue(badSide.result.stderrText.contains("bronze_without_namespace: expected a table NAMESPACE.TABLE"), badSide.result.stderrText)
        let badArgument = try verify(["--left", "x.y"])
        XCTAssertEqual(badArgument.status, 2)
        XCTAssertTrue(badArgument.result.stderrText.contains("--right"), badArgument.result.stderrText)
        let help = try verify(["--help"])
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.result.stdoutText.contains("Examples:"))
    }
}
