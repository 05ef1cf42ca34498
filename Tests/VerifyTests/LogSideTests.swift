import Foundation
import Kafka
import SegmentLog
import TestSupport
import XCTest

/// `k2-verify` with a segment log captured from Kafka on one side and the topic itself on the other.
final class LogSideTests: XCTestCase {
    func testCaptureLogAgainstTheTopicItCameFrom() throws {
        let topic = KafkaSideTests.topic
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try KafkaSideTests.fill(cluster, counts: [0: 400, 1: 400])
        let directory = try TestEnvironment.temporaryDirectory("k2-verify-log")
        defer { try? FileManager.default.removeItem(at: directory) }

        // The capture: partition 0 whole, partition 1 without offsets 120-139 (a lost fetch), and a
        // non-Kafka stream that must be ignored.
        let writer = try SegmentLogWriter(directory: directory.path) { _ in }
        for partition in Int32(0)...1 {
            for index in 0..<400 where !(partition == 1 && (120...139).contains(index)) {
                var value: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x01]
                value += Array("trade p\(partition) #\(index)".utf8)
                try writer.append(LogRecord(
                    receiveTimeNanos: 1_800_000_000_000_000_000 + Int64(index), source: "kafka:\(topic)", stream: String(partition),
                    payload: value,
                    kafka: KafkaCoordinates(partition: partition, offset: Int64(index), timestampMs: KafkaSideTests.base + Int64(index) * 1000,
                                            timestampType: 1, key: Array("BTCUSDT".utf8))))
            }
        }
        try writer.append(LogRecord(receiveTimeNanos: 1_800_000_000_000_000_000, source: "binance", stream: "btcusdt@trade", payload: Array("{}".utf8)))
        try writer.close()

        let run = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"),
            ["--left", "log:\(directory.path)", "--right", "kafka://\(cluster.bootstrap)/\(topic)", "--payload", "--json"])
        XCTAssertEqual(run.status, 1, run.stderrText)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        let partitions = try XCTUnwrap(json["partitions"] as? [[String: Any]])
        XCTAssertEqual(partitions.map { $0["partition"] as! Int }, [1, 0])   // mismatch first
        XCTAssertEqual(partitions[0]["missing_in_left"] as? [[Int]], [[120, 139]])
        XCTAssertEqual(partitions[0]["missing_in_right"] as? [[Int]], [])
        XCTAssertEqual(partitions[0]["payload_mismatches"] as? [[Int]], [])
        XCTAssertEqual(partitions[1]["parity"] as? Bool, true)
        XCTAssertEqual((json["sides"] as? [String: Any]).flatMap { $0["left"] as? [String: Any] }?["kind"] as? String, "log")
        XCTAssertEqual((json["summary"] as? [String: Any])?["problems"] as? [String],
                       ["\(topic)[1]: missing in left: 20 offsets in 1 range(s): [120, 139]"])
    }
}
