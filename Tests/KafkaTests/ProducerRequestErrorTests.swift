import Foundation
import Kafka
import XCTest

/// The idempotent producer (with k2-replay's gapless guarantee) against the mock cluster while Produce
/// requests fail with retriable errors again and again (not leader, timed out): every message should be
/// in the topic once. Off by default (K2_MOCK_PRODUCE_ERRORS=1 runs it): with librdkafka 2.0.2 about one run
/// in four reports every message delivered while a partition lacks one or two (the mock appends a later
/// batch after refusing an earlier one, which a real broker refuses as out of sequence, and librdkafka then
/// counts the earlier batch as implicitly acknowledged). See docs/reliability.md.
final class ProducerRequestErrorTests: XCTestCase {
    func testRetriableProduceErrorsLoseAndDuplicateNothing() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["K2_MOCK_PRODUCE_ERRORS"] == "1",
                          "set K2_MOCK_PRODUCE_ERRORS=1: librdkafka 2.0.2's mock loses messages under injected Produce errors")
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        try cluster.createTopic("retried", partitions: 6)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        config.set("enable.idempotence", "true")
        config.set("acks", "all")
        config.set("linger.ms", "1")
        config.set("batch.num.messages", "20")
        config.set("enable.gapless.guarantee", "true")
        let producer = try KafkaProducer(config: config)
        let perPartition = 3000
        for index in 0..<perPartition {
            for partition in Int32(0)..<6 {
                try producer.produce(topic: "retried", partition: partition, key: nil, value: Array("\(partition)-\(index)".utf8))
            }
            if index % 60 == 0 { cluster.pushRequestErrors(apiKey: 0, errors: [6, 7]) }
            producer.poll(timeoutMs: index % 10 == 0 ? 1 : 0)
        }
        XCTAssertTrue(producer.flush(timeoutMs: 60_000))
        XCTAssertEqual(producer.failedCount, 0)
        XCTAssertEqual(producer.deliveredCount, 6 * perPartition)
        let consumer = try KafkaConsumer(config: config)
        for partition in Int32(0)..<6 {
            XCTAssertEqual(try consumer.watermarks(topic: "retried", partition: partition).high, Int64(perPartition), "partition \(partition)")
        }
    }
}
