import Bronze
import SegmentLog

/// `--dry-run`: what `--to kafka` would produce, counted per topic/partition, nothing sent.
final class DryRunSink: ReplaySink {
    private var encoder: BronzeRecordEncoder
    private let router: KafkaTargetRouter
    private var perPartition: [TopicPartition: Int] = [:]
    private var messages = 0
    private var notTrade = 0
    private var malformed = 0

    init(format: BronzeValueFormat, router: KafkaTargetRouter) {
        encoder = BronzeRecordEncoder(format: format, schemaIds: [.binance: 0, .kraken: 0])
        self.router = router
    }

    func write(_ record: LogRecord) throws -> Int {
        guard record.kind == .data else { return 0 }
        if record.source.hasPrefix("kafka:") {
            let target = TopicPartition(topic: router.topic(forKafkaSource: record.source),
                                        partition: record.kafka?.partition ?? Int32(record.stream) ?? 0)
            perPartition[target, default: 0] += 1
            messages += 1
            return 1
        }
        return try encoder.encode(source: record.source, stream: record.stream, payload: record.payload,
                                  receiveTimeNanos: record.receiveTimeNanos,
                                  skip: { reason, _ in
                                      if reason == .malformed { self.malformed += 1 } else { self.notTrade += 1 }
                                  }) { view in
            let topic = router.topic(for: view.exchange)
            perPartition[TopicPartition(topic: topic, partition: try router.partition(topic: topic, key: view.key)), default: 0] += 1
            messages += 1
        }
    }

    /// The readerStreams of `write(view:)`.
    var readerStreams: [StreamKey] = []

    func write(view: LogRecordView) throws -> Int { try write(record(of: view)) }

    func finish() throws {}

    /// What would be produced where, a line per partition.
    var planLines: [String] {
        perPartition.sorted { $0.key < $1.key }.map { "dry run: \($0.key): \($0.value) messages" }
    }

    var progressNote: String { "" }

    var summary: [String: SummaryValue] {
        ["would_produce": .int(messages), "frames_not_trades": .int(notTrade), "frames_malformed": .int(malformed),
         "per_partition": .partitions(perPartition, key: "messages")]
    }
}
