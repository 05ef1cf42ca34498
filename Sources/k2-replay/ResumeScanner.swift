import Kafka

/// Finds, for each target partition, the last record this log already put there: reads the partition tail
/// backwards in growing windows until a `k2-replay-id` header of one of this log's streams turns up (other
/// producers may share the topic) or the partition's start is reached.
struct ResumeScanner {
    let config: KafkaConfig
    /// The stream hashes of this log: provenance from other logs is ignored.
    let ourStreams: Set<UInt64>

    /// `producer` answers the watermark queries; a consumer is made only when a partition holds records.
    func cutoffs(topics: [String: Int32], producer: KafkaProducer) throws -> [TopicPartition: ProvenanceID] {
        var consumer: KafkaConsumer?
        var result: [TopicPartition: ProvenanceID] = [:]
        for (topic, count) in topics.sorted(by: { $0.key < $1.key }) {
            for partition in 0..<count {
                let target = TopicPartition(topic: topic, partition: partition)
                let (low, high) = try producer.watermarks(topic: topic, partition: partition)
                guard high > low else { continue }   // empty: nothing of ours there
                if consumer == nil { consumer = try KafkaConsumer(config: config) }
                if let found = try lastOurs(consumer!, target, low: low, high: high) { result[target] = found }
            }
        }
        return result
    }

    private func lastOurs(_ consumer: KafkaConsumer, _ target: TopicPartition, low: Int64, high: Int64) throws -> ProvenanceID? {
        var end = high
        var window: Int64 = 256
        while end > low {
            let start = max(low, end - window)
            try consumer.assign([(target.topic, target.partition, .offset(start))])
            var last: ProvenanceID?
            reading: while true {
                guard let event = try consumer.poll(timeoutMs: 30_000) else {
                    throw ReplayError.unusable("resume: no answer reading \(target) from offset \(start)")
                }
                switch event {
                case .message(let message):
                    if message.offset >= end { break reading }
                    if let value = message.header(ProvenanceID.headerName)?.value, let id = ProvenanceID(header: value),
                       ourStreams.contains(id.streamHash) {
                        last = id
                    }
                    if message.offset == end - 1 { break reading }
                case .endOfPartition(_, let partition, _) where partition == target.partition:
                    break reading
                default: continue
                }
            }
            if let last { return last }
            end = start
            window *= 8
        }
        return nil
    }
}
