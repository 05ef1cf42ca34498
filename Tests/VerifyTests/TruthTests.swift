import Foundation
import Kafka
import TestSupport
import XCTest

/// Two Bronze tables (pyiceberg, with defects) against Kafka as the truth: the topic holds every record
/// both tables should have, byte for byte (scripts/verify_fixtures.py builds the same values).
final class TruthTests: XCTestCase {
    static let baseMs: Int64 = 1_707_519_600_000   // verify_fixtures.py BASE_MS

    /// The value verify_fixtures.py gives (partition, offset).
    static func value(_ partition: Int32, _ offset: Int) -> [UInt8] {
        let cents = offset % 100 < 10 ? "0\(offset % 100)" : "\(offset % 100)"
        let body = "trade p\(partition) o\(offset) price 42150.\(cents) "
        return [0x00, 0x00, 0x00, 0x00, 0x07] + Array((body + body + body).utf8)
    }

    func testTablesAgainstKafkaTruth() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        let directory = try TestEnvironment.temporaryDirectory("k2-verify-truth")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/verify_fixtures.py").path
        let made = try ProcessRunner.run(TestEnvironment.python, [script, directory.path, "defects"])
        XCTAssertEqual(made.status, 0, made.stderrText)

        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic(IcebergSideTests.topic, partitions: 5, replicationFactor: 1)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        for partition in Int32(0)...4 {
            for offset in 0..<(partition == 4 ? 50 : 600) {
                try producer.produce(topic: IcebergSideTests.topic, partition: partition, key: Array("BTCUSDT".utf8),
                                     value: Self.value(partition, offset),
                                     timestampMs: Self.baseMs + Int64(offset) * 10_000 + Int64(partition))
            }
        }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))
        XCTAssertEqual(producer.failedCount, 0)

        let run = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"), [
            "--catalog", "sqlite:" + directory.appendingPathComponent("catalog.db").path] + IcebergSideTests.sides + [
            "--truth", "kafka://\(cluster.bootstrap)/\(IcebergSideTests.topic)", "--payload", "--json"])
        XCTAssertEqual(run.status, 1, run.stderrText)
        try ReportSchema.assertValid(run.stdout, "a report with a truth side and payloads")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        let partitions = try XCTUnwrap(json["partitions"] as? [[String: Any]])
        let expected: [Int: [String: [[Int]]]] = [
            0: ["missing_in_left_vs_truth": [[100, 149]]],
            1: ["missing_in_right_vs_truth": [[200, 249]], "payload_mismatches_left_vs_truth": [[42, 42]]],
            2: ["missing_in_left_vs_truth": [[500, 519]]],
            3: ["missing_in_right_vs_truth": [[0, 9]]],
            4: ["missing_in_right_vs_truth": [[0, 49]]],
        ]
        XCTAssertEqual(partitions.map { $0["partition"] as? Int }, [0, 1, 2, 3, 4])
        for partition in partitions {
            let number = partition["partition"] as! Int
            for key in ["missing_in_left_vs_truth", "missing_in_right_vs_truth", "missing_in_truth",
                        "payload_mismatches_left_vs_truth", "payload_mismatches_right_vs_truth"] {
                XCTAssertEqual(partition[key] as? [[Int]], expected[number]?[key] ?? [], "partition \(number) \(key)")
            }
            XCTAssertEqual((partition["duplicates_truth"] as? [Any])?.count, 0)
            XCTAssertEqual((partition["truth"] as? [String: Any])?["retention_floor"] as? Int, 0)
            XCTAssertEqual((partition["retention"] as? [Any])?.count, 0)
        }
        XCTAssertEqual(((json["summary"] as? [String: Any])?["rows"] as? [String: Any])?["truth"] as? Int, 4 * 600 + 50)
        // Each offset a table lacks counts once, whether the other table, the truth or both hold it.
        var missingRight = 0, missingLeft = 0
        for partition in partitions {
            func count(_ key: String) -> Set<Int> {
                Set((partition[key] as? [[Int]] ?? []).flatMap { $0[0]...$0[1] })
            }
            missingLeft += count("missing_in_left").union(count("missing_in_left_vs_truth")).count
            missingRight += count("missing_in_right").union(count("missing_in_right_vs_truth")).count
        }
        let summary = try XCTUnwrap(json["summary"] as? [String: Any])
        XCTAssertEqual(summary["missing_in_left_offsets"] as? Int, missingLeft)
        XCTAssertEqual(summary["missing_in_right_offsets"] as? Int, missingRight)
        XCTAssertEqual(missingRight, 50 + 10 + 50)
        XCTAssertEqual(((json["sides"] as? [String: Any])?["truth"] as? [String: Any])?["kind"] as? String, "kafka")
    }
}
