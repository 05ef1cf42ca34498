import Foundation
import Kafka
import TestSupport
import XCTest

/// `k2-replay --topic NAME` for a topic that does not exist yet, on a cluster that never answers
/// CreateTopics (librdkafka's mock cluster, as `k2-replay embedded-kafka` serves it): the topic is
/// auto-created by a metadata request, as kcat's first produce would, and the run says which happened.
final class NewTopicTests: XCTestCase {
    func testReplayIntoATopicThatDoesNotExistYet() throws {
        let directory = try TestEnvironment.temporaryDirectory("new-topic")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log").path
        let generated = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), ["generate-log", "--out", log, "--trades", "300"])
        XCTAssertEqual(generated.status, 0, generated.stderrText)
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        let topic = "brand.new.topic"
        let run = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), [
            "--from", log, "--to", "kafka", "--bootstrap", cluster.bootstrap, "--topic", topic, "--schema-id", "1"])
        XCTAssertEqual(run.status, 0, run.stderrText)
        XCTAssertTrue(run.stderrText.contains("auto-created it on a metadata request"), run.stderrText)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let consumer = try KafkaConsumer(config: config)
        let partitions = try XCTUnwrap(try consumer.topics()[topic])
        let total = try (0..<partitions).reduce(Int64(0)) { $0 + (try consumer.watermarks(topic: topic, partition: $1).high) }
        XCTAssertEqual(total, 300)
    }
}
