import K2CLI
import Kafka

/// Start-up of a `--to kafka` run: loads this replay's checkpoint, or (fresh run) records every target
/// partition's high watermark and writes the first checkpoint before anything is produced; on resume reads
/// each partition from its first unconfirmed offset up to the current high watermark (`PartitionTail`).
struct ResumePlanner {
    let store: CheckpointStore
    let identity: ReplayIdentity
    /// librdkafka settings for the consumer that reads the tails (the replay's own, as given with -X).
    let consumerConfig: KafkaConfig

    struct Plan {
        var checkpoint: ReplayCheckpoint
        /// Per entry of `checkpoint.partitions`: what was found after its last confirmed offset (nil: nothing).
        var tails: [PartitionTail?]
        var resumed: Bool
    }

    /// `targets`: topic → partition count of every topic this selection writes to.
    func plan(targets: [String: Int32], producer: KafkaProducer) throws -> Plan {
        if var checkpoint = try store.load(identity) {
            let path = store.path(for: identity)
            let known = Set(checkpoint.partitions.map(\.target))
            for (topic, count) in targets.sorted(by: { $0.key < $1.key }) {
                let had = checkpoint.partitions.filter { $0.topic == topic }.count
                if had > 0 && had != Int(count) {
                    throw ReplayError.unusable("checkpoint \(path): \(topic) had \(had) partitions, it has \(count) now; "
                                               + "keys would move to other partitions, so this replay cannot be resumed")
                }
                for partition in 0..<count where !known.contains(TopicPartition(topic: topic, partition: partition)) {
                    // A topic this checkpoint did not cover (not expected with the same arguments): nothing of ours there.
                    let (_, high) = try producer.watermarks(topic: topic, partition: partition)
                    checkpoint.partitions.append(.init(topic: topic, partition: partition, startOffset: high, delivered: 0, lastOffset: -1))
                }
            }
            let tails = try readTails(checkpoint, producer: producer)
            return Plan(checkpoint: checkpoint, tails: tails, resumed: true)
        }
        var partitions: [ReplayCheckpoint.Partition] = []
        for (topic, count) in targets.sorted(by: { $0.key < $1.key }) {
            for partition in 0..<count {
                let (_, high) = try producer.watermarks(topic: topic, partition: partition)
                partitions.append(.init(topic: topic, partition: partition, startOffset: high, delivered: 0, lastOffset: -1))
            }
        }
        let checkpoint = ReplayCheckpoint(identity: identity, partitions: partitions)
        try store.write(checkpoint)   // before the first produce: a kill from here on finds it
        return Plan(checkpoint: checkpoint, tails: Array(repeating: nil, count: partitions.count), resumed: false)
    }

    /// Reads `[firstUnconfirmedOffset, high watermark)` of every partition where that range is not empty.
    private func readTails(_ checkpoint: ReplayCheckpoint, producer: KafkaProducer) throws -> [PartitionTail?] {
        var tails: [PartitionTail?] = Array(repeating: nil, count: checkpoint.partitions.count)
        var wanted: [(index: Int, from: Int64, high: Int64)] = []
        for (index, entry) in checkpoint.partitions.enumerated() {
            let (low, high) = try producer.watermarks(topic: entry.topic, partition: entry.partition)
            let from = entry.firstUnconfirmedOffset
            if high < from {
                throw ReplayError.unusable("checkpoint \(store.path(for: identity)): \(entry.target) ends at offset \(high), "
                                           + "before offset \(from) the checkpoint saw: was the topic re-created?")
            }
            guard high > from else { continue }
            if low > from {
                throw ReplayError.unusable("resume: \(entry.target) no longer holds offsets \(from)..<\(low) (retention?), "
                                           + "so what this replay delivered there cannot be checked")
            }
            wanted.append((index, from, high))
            tails[index] = PartitionTail()
        }
        guard !wanted.isEmpty else { return tails }
        let consumer = try KafkaConsumer(config: consumerConfig)
        try consumer.assign(wanted.map { (checkpoint.partitions[$0.index].topic, checkpoint.partitions[$0.index].partition, .offset($0.from)) })
        var pending: [TopicPartition: (index: Int, high: Int64)] = [:]
        for entry in wanted { pending[checkpoint.partitions[entry.index].target] = (entry.index, entry.high) }
        var read = 0
        while !pending.isEmpty {
            guard let event = try consumer.poll(timeoutMs: 30_000) else {
                let names = pending.keys.sorted().map(\.description).joined(separator: ", ")
                throw ReplayError.unusable("resume: no answer within 30 s reading \(names)")
            }
            switch event {
            case .message(let message):
                let target = TopicPartition(topic: message.topic, partition: message.partition)
                guard let (index, high) = pending[target] else { continue }
                if message.offset < high {
                    tails[index]!.append(message)
                    read += 1
                }
                if message.offset >= high - 1 { pending[target] = nil }
            case .endOfPartition(let topic, let partition, let offset):
                let target = TopicPartition(topic: topic, partition: partition)
                if let (_, high) = pending[target], offset >= high { pending[target] = nil }
            }
        }
        StandardError.note("resume: read \(read) messages after the checkpoint in \(wanted.count) partitions")
        return tails
    }
}
