/// The first offset of each partition whose record timestamp is at or after a time: what Kafka's ListOffsets
/// answers by timestamp, checked against the records at the answer's edge. A broker that does not index
/// timestamps (librdkafka's mock cluster answers the end offset for any time) would otherwise make a
/// time-bounded read silently empty; when the edge records contradict the answer, the partition is scanned
/// from its earliest offset instead, and the diagnostics say so. On a real broker the check costs one or two
/// single-record reads per partition.
public enum TimestampOffsetLookup {
    /// For each partition: the first offset whose timestamp is ≥ `timestampMs`, or nil when no record is
    /// (start at the end).
    public static func firstOffsets(atOrAfter timestampMs: Int64, topic: String, partitions: [Int32], config: KafkaConfig,
                                    timeoutMs: Int32 = 10_000, diagnostics: (String) -> Void = { _ in }) throws -> [Int32: Int64?] {
        let consumer = try KafkaConsumer(config: config)
        let answers = try consumer.offsetsForTimes(topic: topic, partitions: partitions, timestampMs: timestampMs, timeoutMs: timeoutMs)
        var result: [Int32: Int64?] = [:]
        for partition in partitions {
            let (low, high) = try consumer.watermarks(topic: topic, partition: partition, timeoutMs: timeoutMs)
            guard high > low else {
                result[partition] = Optional<Int64>.none
                continue
            }
            var answer: Int64? = answers[partition] ?? nil
            if let offset = answer, offset >= high { answer = nil }
            let reader = EdgeReader(consumer: consumer, topic: topic, partition: partition, timeoutMs: timeoutMs)
            let consistent: Bool
            if let offset = answer {
                let atAnswer = try reader.timestamp(at: offset)
                let before = offset > low ? try reader.timestamp(at: offset - 1) : nil
                consistent = (atAnswer.map { $0 >= timestampMs } ?? true) && (before.map { $0 < timestampMs } ?? true)
            } else {
                consistent = (try reader.timestamp(at: high - 1)).map { $0 < timestampMs } ?? true
            }
            if consistent {
                result[partition] = answer
            } else {
                let found = try reader.scan(from: low, until: high, forFirstAtOrAfter: timestampMs)
                diagnostics("\(topic) [\(partition)]: the broker's offset for time \(timestampMs) ms "
                            + "(\(answer.map(String.init) ?? "the end")) disagrees with the records' timestamps; "
                            + "scanned offsets \(low)..<\(high): first at or after it is \(found.map(String.init) ?? "none")")
                result[partition] = found
            }
        }
        return result
    }

    /// Reads single records (and, when the broker's answer cannot be trusted, a whole partition) through a
    /// consumer of its own, so the caller's assignment is untouched.
    private struct EdgeReader {
        let consumer: KafkaConsumer
        let topic: String
        let partition: Int32
        let timeoutMs: Int32

        /// The timestamp of the record at `offset`; nil when that offset holds no record (compacted away,
        /// a transaction marker) and the next record is further on.
        func timestamp(at offset: Int64) throws -> Int64? {
            var found: Int64?
            try read(from: offset) { message in
                if message.offset == offset { found = message.timestampMs }
                return false
            }
            return found
        }

        func scan(from low: Int64, until high: Int64, forFirstAtOrAfter timestampMs: Int64) throws -> Int64? {
            var found: Int64?
            try read(from: low) { message in
                if message.timestampMs >= timestampMs {
                    found = message.offset
                    return false
                }
                return message.offset + 1 < high
            }
            return found
        }

        /// Reads from `offset` while `body` returns true, up to the partition's end.
        private func read(from offset: Int64, _ body: (KafkaMessage) -> Bool) throws {
            try consumer.assign([(topic: topic, partition: partition, start: .offset(offset))])
            var idlePolls = 0
            while true {
                guard let event = try consumer.poll(timeoutMs: min(timeoutMs, 1000)) else {
                    idlePolls += 1
                    if idlePolls * 1000 >= Int(timeoutMs) {
                        throw KafkaError(message: "no answer reading \(topic) [\(partition)] at offset \(offset) within \(timeoutMs) ms")
                    }
                    continue
                }
                idlePolls = 0
                switch event {
                case .message(let message):
                    guard message.partition == partition else { continue }
                    if !body(message) { return }
                case .endOfPartition(_, let eventPartition, _):
                    if eventPartition == partition { return }
                }
            }
        }
    }
}
