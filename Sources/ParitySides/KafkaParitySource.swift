import K2Core
import Kafka
import Parity

/// A Kafka topic as a side: what the topic holds between each partition's earliest offset (its retention
/// floor) and the high watermark seen when the first scan began. Later scans (payload pass) read up to the
/// same watermarks, so every pass sees the same records.
final class KafkaParitySource: ParitySource {
    let bootstrap: String
    let topic: String
    let description: SideDescription
    private(set) var retentionFloors: [PartitionKey: Int64] = [:]
    private(set) var knownPartitions: Set<PartitionKey> = []
    private var watermarks: [Int32: (low: Int64, high: Int64)]?
    /// Give up when no record arrives for this long while partitions are still short of their watermark.
    let stallTimeoutMs: Int64
    private let cancellation: CancellationSignal
    /// Where librdkafka's own log lines go (not raw to stderr).
    private let diagnostics: @Sendable (String) -> Void

    init(bootstrap: String, topic: String, stallTimeoutMs: Int64, cancellation: CancellationSignal,
         diagnostics: @escaping @Sendable (String) -> Void = { _ in }) {
        self.diagnostics = diagnostics
        self.bootstrap = bootstrap
        self.topic = topic
        self.stallTimeoutMs = stallTimeoutMs
        self.cancellation = cancellation
        description = SideDescription(kind: "kafka", name: "kafka://\(bootstrap)/\(topic)",
                                      details: ["bootstrap": bootstrap, "topic": topic])
    }

    private func makeConsumer() throws -> KafkaConsumer {
        var config = KafkaConfig()
        config.set("bootstrap.servers", bootstrap)
        config.set("log_level", "4")
        let diagnostics = self.diagnostics
        config.logHandler = { line in diagnostics("kafka: \(line.facility): \(line.message) (\(line.clientName))") }
        return try KafkaConsumer(config: config)
    }

    func scan(scope: ParityScope, partitions: Set<PartitionKey>?, payload: Bool,
              into sink: (inout ParityChunk) throws -> Void) async throws {
        let consumer = try makeConsumer()
        if watermarks == nil {
            let topics = try consumer.topics()
            guard let count = topics[topic], count > 0 else {
                throw ParityCheckError("kafka://\(bootstrap)/\(topic): topic not found")
            }
            var marks: [Int32: (low: Int64, high: Int64)] = [:]
            for partition in 0..<count where scope.contains(partition: partition) {
                marks[partition] = try consumer.watermarks(topic: topic, partition: partition)
                let key = PartitionKey(topic: topic, partition: partition)
                knownPartitions.insert(key)
                retentionFloors[key] = marks[partition]!.low
            }
            watermarks = marks
        }
        var wanted = watermarks!.filter { partition, mark in
            mark.high > mark.low && (partitions?.contains(PartitionKey(topic: topic, partition: partition)) ?? true)
        }
        // Start each partition at the first offset at or after --since when given (the broker's time index).
        var starts: [Int32: Int64] = wanted.mapValues(\.low)
        if let since = scope.sinceMicros, !wanted.isEmpty {
            let found = try consumer.offsetsForTimes(topic: topic, partitions: Array(wanted.keys), timestampMs: since / 1000)
            // Only a found offset is used: "none found" (-1) is also what brokers without a time index (and
            // librdkafka's mock) answer, so such partitions are read whole and filtered row by row.
            for (partition, offset) in found {
                if let offset, offset < wanted[partition]!.high { starts[partition] = max(offset, wanted[partition]!.low) }
            }
        }
        // Start at the first offset an `--offsets` scope names: reading from the low watermark would race the
        // retention that keeps moving it (and read what the scope drops anyway).
        if let offsets = scope.offsets {
            for (partition, mark) in wanted {
                let ranges = offsets.resolved(partition: partition, low: mark.low, high: mark.high)
                if let first = ranges.first?.first {
                    starts[partition] = min(max(starts[partition]!, first), mark.high)
                }
                // ...and stop after its last: what is produced beyond it is out of scope.
                if let last = ranges.last?.last { wanted[partition]!.high = min(mark.high, last + 1) }
            }
            wanted = wanted.filter { starts[$0.key]! < $0.value.high }
        }
        guard !wanted.isEmpty else { return }
        try consumer.assign(wanted.keys.sorted().map { (topic: topic, partition: $0, start: KafkaStartOffset.offset(starts[$0]!)) })

        var chunks: [Int32: ParityChunk] = [:]
        for partition in wanted.keys {
            var chunk = ParityChunk(key: PartitionKey(topic: topic, partition: partition), payloadHashes: payload ? [] : nil)
            chunk.offsets.reserveCapacity(4096)
            chunk.timestampsMicros.reserveCapacity(4096)
            chunks[partition] = chunk
        }
        var remaining = Set(wanted.keys)
        var idleMs: Int64 = 0
        while !remaining.isEmpty {
            try cancellation.check()
            guard let event = try consumer.poll(timeoutMs: 200) else {
                idleMs += 200
                if idleMs >= stallTimeoutMs {
                    throw ParityCheckError("kafka://\(bootstrap)/\(topic): no records for \(stallTimeoutMs / 1000) s while partitions \(remaining.sorted()) are short of their high watermarks")
                }
                continue
            }
            idleMs = 0
            switch event {
            case .endOfPartition(_, let partition, let offset):
                if let mark = wanted[partition], offset >= mark.high { remaining.remove(partition) }
            case .message(let message):
                guard let mark = wanted[message.partition], message.offset < mark.high else { continue }
                var chunk = chunks[message.partition]!
                chunks[message.partition] = nil   // keep the arrays uniquely referenced while appending
                chunk.offsets.append(message.offset)
                chunk.timestampsMicros.append(message.timestampMs * 1000)
                if payload { chunk.payloadHashes!.append(message.value.map { PayloadHash.hash($0) } ?? PayloadHash.null) }
                if chunk.count >= 4096 {
                    try sink(&chunk)
                    chunk.removeAll()
                }
                chunks[message.partition] = chunk
                if message.offset >= mark.high - 1 { remaining.remove(message.partition) }
            }
        }
        for partition in chunks.keys.sorted() where chunks[partition]!.count > 0 {
            try sink(&chunks[partition]!)
        }
    }
}
