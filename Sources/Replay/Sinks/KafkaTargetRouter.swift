import Bronze
import Kafka
import SegmentLog

/// A target partition.
struct TopicPartition: Hashable, Comparable, CustomStringConvertible {
    var topic: String
    var partition: Int32
    static func < (a: TopicPartition, b: TopicPartition) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }
    var description: String { "\(topic) [\(partition)]" }
}

/// Decides topic and partition the way K2 does: `market.crypto.trades.{exchange}.raw` (or `--topic`), the
/// partition librdkafka's default partitioner gives the key (computed here, so resume and `--dry-run`
/// know it); records captured from Kafka keep their topic (unless `--topic`) and partition.
struct KafkaTargetRouter {
    var topicOverride: String?
    var partitionCounts: [String: Int32]
    var defaultPartitions: Int32

    func topic(for exchange: BronzeExchange) -> String { topicOverride ?? exchange.topic }

    func topic(forKafkaSource source: String) -> String {
        topicOverride ?? String(source.dropFirst("kafka:".count))
    }

    func partition(topic: String, key: String) throws -> Int32 {
        let count = partitionCounts[topic] ?? defaultPartitions
        guard let partition = K2Partitioner.partition(key: key, partitionCount: count) else {
            throw ReplayError.failed("empty key for \(topic): cannot place it deterministically")
        }
        return partition
    }

    /// The topics a selection of log streams will write to.
    func topics(for streams: [StreamKey]) -> Set<String> {
        var topics = Set<String>()
        for stream in streams {
            if stream.source.hasPrefix("kafka:") {
                topics.insert(topic(forKafkaSource: stream.source))
            } else if let exchange = BronzeExchange(source: stream.source) {
                topics.insert(topic(for: exchange))
            }
        }
        return topics
    }
}
