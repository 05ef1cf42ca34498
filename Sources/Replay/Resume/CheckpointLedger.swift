import SegmentLog

/// The Kafka source's ledger kept in the replay's checkpoint: the ranges fixed by the first run, and where a
/// rerun reads each partition from: after its stream's last acknowledged message, or from the batch to recheck
/// (acknowledged messages whose offsets in the target were not known, which the sink finds there first).
/// Partitions the source gained after the first run are not read: their range is empty, as the end offsets
/// seen at that run's start say.
final class CheckpointLedger: KafkaSourceLedger {
    private var starts: [String: Int64] = [:]
    private var ends: [String: Int64] = [:]
    private var resumeAfter: [String: Int64] = [:]
    /// A rerun: the ranges were fixed before.
    private let fixed: Bool

    init(_ checkpoint: ReplayCheckpoint?, source: String, topic: String) {
        fixed = checkpoint?.sourceRanges != nil
        for (key, range) in checkpoint?.sourceRanges ?? [:] {
            starts[key] = range.start
            ends[key] = range.end
        }
        for partition in checkpoint?.partitions ?? [] {
            for stream in partition.streams where stream.source == source {
                guard let acknowledged = stream.acknowledged, let number = Int32(stream.stream) else { continue }
                // Sequence - 1 is the offset; a recheck batch is read again from its first message.
                let after = stream.recheck.map { Int64($0.sequence) - 2 } ?? Int64(acknowledged.sequence) - 1
                let key = KafkaTopicSource.key(topic: topic, partition: number)
                resumeAfter[key] = min(resumeAfter[key] ?? after, after)
            }
        }
    }

    /// The ranges fixed so far, for the checkpoint.
    var ranges: [String: ReplayCheckpoint.SourceRange] {
        var ranges: [String: ReplayCheckpoint.SourceRange] = [:]
        for (key, start) in starts { if let end = ends[key] { ranges[key] = .init(start: start, end: max(start, end)) } }
        return ranges
    }

    func end(_ key: String, high: Int64) -> Int64 {
        if let end = ends[key] { return end }
        let end = fixed ? 0 : high   // a partition added since the first run: nothing of it was there then
        ends[key] = end
        return end
    }

    func done(_ key: String) -> Int64? {
        if let after = resumeAfter[key] { return after }
        return starts[key].map { $0 - 1 }
    }

    func pinStart(_ key: String, _ start: Int64) { starts[key] = start }
}
