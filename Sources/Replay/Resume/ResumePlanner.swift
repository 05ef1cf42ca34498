import Kafka

/// Start-up of a `--to kafka` run: loads this replay's checkpoint, or (fresh run) records every target
/// partition's high watermark and writes the first checkpoint before anything is produced. On resume it
/// reads, per partition, the message at the checkpoint's last acknowledged offset (checked against the log
/// by `LastMessageCheck`) and the partition from the lowest offset where a stream's unconfirmed messages may
/// be up to the current high watermark (`PartitionTail`).
struct ResumePlanner {
    let store: CheckpointStore
    let identity: ReplayIdentity
    /// librdkafka settings for the consumer that reads the tails (the replay's own, as given with -X).
    let consumerConfig: KafkaConfig
    /// Where notes on what resume found go.
    var diagnostics: ReplayDiagnostics = { _ in }

    struct Plan {
        var checkpoint: ReplayCheckpoint
        /// Per entry of `checkpoint.partitions`: what was found after the streams' `fromOffset` (nil: not read).
        var tails: [PartitionTail?]
        /// Per entry: Kafka's message at `last.offset` (nil: no last message, or retention deleted it).
        var lastInKafka: [KafkaMessage?]
        /// Per entry: the high watermark now, before this run produces (what it produces lands at or above).
        var highWatermarks: [Int64]
        var resumed: Bool
    }

    /// `targets`: topic → partition count of every topic this selection writes to. `sourceRanges` (a Kafka
    /// source) fixes the source's ranges, given the checkpoint (nil: a fresh run); they are written before
    /// anything is produced.
    func plan(targets: [String: Int32], producer: KafkaProducer,
              sourceRanges: ((ReplayCheckpoint?) throws -> [String: ReplayCheckpoint.SourceRange])? = nil) throws -> Plan {
        let path = store.path(for: identity)
        guard var checkpoint = try store.load(identity) else {
            var partitions: [ReplayCheckpoint.Partition] = []
            var highs: [Int64] = []
            for (topic, count) in targets.sorted(by: { $0.key < $1.key }) {
                for partition in 0..<count {
                    let (_, high) = try producer.watermarks(topic: topic, partition: partition)
                    partitions.append(.init(topic: topic, partition: partition, startOffset: high, streams: []))
                    highs.append(high)
                }
            }
            var checkpoint = ReplayCheckpoint(identity: identity, partitions: partitions)
            checkpoint.sourceRanges = try sourceRanges?(nil)
            try store.write(checkpoint)   // before the first produce: a kill from here on finds it
            return Plan(checkpoint: checkpoint, tails: Array(repeating: nil, count: partitions.count),
                        lastInKafka: Array(repeating: nil, count: partitions.count), highWatermarks: highs, resumed: false)
        }
        let known = Set(checkpoint.partitions.map(\.target))
        var added = false
        if let sourceRanges {
            let ranges = try sourceRanges(checkpoint)
            if ranges != checkpoint.sourceRanges {
                checkpoint.sourceRanges = ranges   // partitions first seen now: fixed before they are read
                added = true
            }
        }
        for (topic, count) in targets.sorted(by: { $0.key < $1.key }) {
            let had = checkpoint.partitions.filter { $0.topic == topic }.count
            if had > 0 && had != Int(count) {
                throw ReplayError.unusable("checkpoint \(path): \(topic) had \(had) partitions, it has \(count) now; "
                                           + "keys would move to other partitions, so this replay cannot be resumed")
            }
            for partition in 0..<count where !known.contains(TopicPartition(topic: topic, partition: partition)) {
                // A topic this checkpoint did not cover (not expected with the same arguments): nothing of ours there.
                let (_, high) = try producer.watermarks(topic: topic, partition: partition)
                checkpoint.partitions.append(.init(topic: topic, partition: partition, startOffset: high, streams: []))
                added = true
            }
        }
        // Recorded before anything is produced there, or a kill would leave messages no checkpoint points at.
        if added { try store.write(checkpoint) }

        var highs: [Int64] = []
        var lastReads: [Range] = []
        var tailReads: [Range] = []
        for (index, entry) in checkpoint.partitions.enumerated() {
            let (low, high) = try producer.watermarks(topic: entry.topic, partition: entry.partition)
            highs.append(high)
            if let last = entry.last {
                if high <= last.offset {
                    throw ReplayError.unusable("checkpoint \(path): \(entry.target) ends at offset \(high), but this replay's message "
                                               + "\(last.source)/\(last.stream) sequence \(last.at.sequence) was acknowledged at offset "
                                               + "\(last.offset): was the topic deleted and re-created?")
                }
                if last.offset < low {
                    diagnostics(ReplayNote(.warning, "resume: \(entry.target) no longer holds offset \(last.offset) (retention), "
                                       + "so the last message this replay delivered there cannot be compared"))
                } else {
                    lastReads.append(Range(index: index, from: last.offset, until: last.offset + 1))
                }
            }
            guard !checkpoint.complete, let from = entry.streams.map(\.fromOffset).min() else { continue }
            if high < from {
                throw ReplayError.unusable("checkpoint \(path): \(entry.target) ends at offset \(high), before offset \(from) "
                                           + "the checkpoint saw: was the topic deleted and re-created?")
            }
            guard high > from else { continue }
            if low > from {
                throw ReplayError.unusable("checkpoint \(path): \(entry.target) no longer holds offsets \(from)..<\(low) (retention?), "
                                           + "so what this replay delivered there cannot be checked")
            }
            tailReads.append(Range(index: index, from: from, until: high))
        }
        var lastInKafka: [KafkaMessage?] = Array(repeating: nil, count: checkpoint.partitions.count)
        for (index, messages) in try read(lastReads, checkpoint) {
            guard let message = messages.first, message.offset == checkpoint.partitions[index].last!.offset else {
                throw ReplayError.unusable("checkpoint \(path): \(checkpoint.partitions[index].target) holds no message at offset "
                                           + "\(checkpoint.partitions[index].last!.offset), where this replay's last one was acknowledged: "
                                           + "was the topic deleted and re-created?")
            }
            lastInKafka[index] = message
        }
        var tails: [PartitionTail?] = Array(repeating: nil, count: checkpoint.partitions.count)
        var read = 0
        for (index, messages) in try self.read(tailReads, checkpoint) {
            var tail = PartitionTail()
            for message in messages { tail.append(message) }
            read += messages.count
            tails[index] = tail
        }
        if !tailReads.isEmpty {
            diagnostics(ReplayNote(.notice, "resume: read \(read) messages after the checkpoint in \(tailReads.count) partitions"))
        }
        return Plan(checkpoint: checkpoint, tails: tails, lastInKafka: lastInKafka, highWatermarks: highs, resumed: true)
    }

    /// Offsets `from..<until` of partition `index` of the checkpoint.
    private struct Range {
        var index: Int
        var from: Int64
        var until: Int64
    }

    /// Reads every range (one consumer, all partitions at once); returns each range's messages in offset order.
    private func read(_ ranges: [Range], _ checkpoint: ReplayCheckpoint) throws -> [(Int, [KafkaMessage])] {
        guard !ranges.isEmpty else { return [] }
        let consumer = try KafkaConsumer(config: consumerConfig)
        try consumer.assign(ranges.map { (checkpoint.partitions[$0.index].topic, checkpoint.partitions[$0.index].partition, .offset($0.from)) })
        var pending: [TopicPartition: (slot: Int, until: Int64)] = [:]
        for (slot, range) in ranges.enumerated() { pending[checkpoint.partitions[range.index].target] = (slot, range.until) }
        var got: [[KafkaMessage]] = Array(repeating: [], count: ranges.count)
        while !pending.isEmpty {
            guard let event = try consumer.poll(timeoutMs: 30_000) else {
                let names = pending.keys.sorted().map(\.description).joined(separator: ", ")
                throw ReplayError.unusable("resume: no answer within 30 s reading \(names)")
            }
            switch event {
            case .message(let message):
                let target = TopicPartition(topic: message.topic, partition: message.partition)
                guard let (slot, until) = pending[target] else { continue }
                if message.offset < until { got[slot].append(message) }
                if message.offset >= until - 1 { pending[target] = nil }
            case .endOfPartition(let topic, let partition, let offset):
                let target = TopicPartition(topic: topic, partition: partition)
                if let (_, until) = pending[target], offset >= until { pending[target] = nil }
            }
        }
        return ranges.enumerated().map { ($1.index, got[$0]) }
    }
}
