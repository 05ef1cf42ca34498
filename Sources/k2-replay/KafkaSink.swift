import Bronze
import Kafka
import K2CLI
import SegmentLog

/// `--to kafka`: K2's messages produced with an idempotent producer; every delivery report awaited.
/// With `resumeCutoffs` (the last record of this log found in each target partition) it skips, per
/// partition, everything up to and including that record: a partition holds a prefix of what the log
/// sends it (idempotent, ordered producer), so what follows the cutoff is exactly what is missing.
final class KafkaSink: ReplaySink {
    private let producer: KafkaProducer
    private var encoder: BronzeRecordEncoder
    private let router: KafkaTargetRouter
    private let pacer: Pacer
    private let logPath: String
    private let provenance: Bool
    private var resumeCutoffs: [TopicPartition: ProvenanceID]
    private var streamHashes: [StreamKey: UInt64] = [:]
    private var headerValue: [UInt8] = []

    private(set) var produced = 0
    private var skippedForResume = 0
    private var notTrade = 0
    private var malformed = 0
    private var firstMalformed: String?
    private var perPartition: [TopicPartition: Int] = [:]
    private var unknownSources: Set<String> = []

    init(producer: KafkaProducer, format: BronzeValueFormat, schemaIds: [BronzeExchange: Int32], router: KafkaTargetRouter,
         pacer: Pacer, logPath: String, provenance: Bool, resumeCutoffs: [TopicPartition: ProvenanceID]) {
        self.producer = producer
        encoder = BronzeRecordEncoder(format: format, schemaIds: schemaIds)
        self.router = router
        self.pacer = pacer
        self.logPath = logPath
        self.provenance = provenance
        self.resumeCutoffs = resumeCutoffs
        headerValue.reserveCapacity(64)
    }

    private var lastStream = StreamKey(source: "", stream: "")
    private var lastStreamHash: UInt64 = 0
    /// Per exchange (binance, kraken): key → index in `slots`, so a message costs one small-string hash.
    private var slotByKey: [[String: Int]] = [[:], [:]]
    private var slots: [(target: TopicPartition, count: Int)] = []

    private func slot(_ exchange: BronzeExchange, _ key: String) throws -> Int {
        let table = exchange == .binance ? 0 : 1
        if let slot = slotByKey[table][key] { return slot }
        let topic = router.topic(for: exchange)
        let target = TopicPartition(topic: topic, partition: try router.partition(topic: topic, key: key))
        let slot = slots.firstIndex { $0.target == target } ?? {
            slots.append((target, 0))
            return slots.count - 1
        }()
        slotByKey[table][key] = slot
        return slot
    }

    private func streamHash(_ record: LogRecord) -> UInt64 {
        if record.source == lastStream.source && record.stream == lastStream.stream { return lastStreamHash }
        let key = record.streamKey
        lastStream = key
        if let hash = streamHashes[key] { lastStreamHash = hash; return hash }
        let hash = ProvenanceID.streamHash(logPath: logPath, source: record.source, stream: record.stream)
        streamHashes[key] = hash
        lastStreamHash = hash
        return hash
    }

    /// True when this message is already in Kafka (at or before the partition's cutoff).
    private func alreadyDelivered(_ target: TopicPartition, _ id: ProvenanceID) -> Bool {
        guard !resumeCutoffs.isEmpty, let cutoff = resumeCutoffs[target] else { return false }
        if cutoff == id { resumeCutoffs[target] = nil }   // the cutoff itself: everything after it is new
        skippedForResume += 1
        return true
    }

    func write(_ record: LogRecord) throws -> Int {
        guard record.kind == .data else { return 0 }
        // Stop at the first failed delivery: what follows would be retried by a rerun anyway.
        if producer.failedCount > 0 { throw deliveryFailure() }
        let hash = streamHash(record)
        if record.source.hasPrefix("kafka:") {
            let coordinates = record.kafka
            let target = TopicPartition(topic: router.topic(forKafkaSource: record.source),
                                        partition: coordinates?.partition ?? Int32(record.stream) ?? 0)
            let id = ProvenanceID(streamHash: hash, sequence: record.sequence, tradeIndex: 0)
            if alreadyDelivered(target, id) { return 0 }
            var headers = (coordinates?.headers ?? []).map { KafkaMessageHeader(name: $0.name, value: $0.value) }
            if provenance {
                id.encode(into: &headerValue)
                headers.append(KafkaMessageHeader(name: ProvenanceID.headerName, value: headerValue))
            }
            pacer.awaitTurn(receiveTimeNanos: record.receiveTimeNanos) { producer.poll(timeoutMs: $0) }
            do {
                try producer.produce(topic: target.topic, partition: target.partition, key: coordinates?.key,
                                     value: record.payload, timestampMs: coordinates?.timestampMs ?? record.receiveTimeNanos / 1_000_000,
                                     headers: headers)
            } catch let error as KafkaError {
                throw ReplayError.failed("\(error) (log record \(record.source)/\(record.stream) sequence \(record.sequence))")
            }
            count(target)
            return 1
        }
        var made = 0
        try encoder.encode(source: record.source, stream: record.stream, payload: record.payload,
                           receiveTimeNanos: record.receiveTimeNanos,
                           skip: { reason, error in
                               switch reason {
                               case .notATrade: self.notTrade += 1
                               case .malformed:
                                   self.malformed += 1
                                   if self.firstMalformed == nil {
                                       self.firstMalformed = "\(record.source)/\(record.stream) sequence \(record.sequence): \(error.map { "\($0)" } ?? "")"
                                   }
                               case .unknownSource: self.unknownSources.insert(record.source)
                               }
                           }) { view in
            let slot = try slot(view.exchange, view.key)
            let target = slots[slot].target
            let id = ProvenanceID(streamHash: hash, sequence: record.sequence, tradeIndex: view.tradeIndex)
            if alreadyDelivered(target, id) { return }
            if provenance { id.encode(into: &headerValue) }
            pacer.awaitTurn(receiveTimeNanos: record.receiveTimeNanos) { producer.poll(timeoutMs: $0) }
            var key = view.key
            do {
                try key.withUTF8 { keyBytes in
                    try headerValue.withUnsafeBytes { header in
                        try producer.produce(topic: target.topic, partition: target.partition, key: UnsafeRawBufferPointer(keyBytes),
                                             value: view.value, timestampMs: record.receiveTimeNanos / 1_000_000,
                                             extraHeader: provenance ? (ProvenanceID.headerName, header) : nil)
                    }
                }
            } catch let error as KafkaError {
                throw ReplayError.failed("\(error) (log record \(record.source)/\(record.stream) sequence \(record.sequence))")
            }
            produced += 1
            slots[slot].count += 1
            made += 1
        }
        return made
    }

    private func count(_ target: TopicPartition) {
        produced += 1
        perPartition[target, default: 0] += 1
    }

    func finish() throws {
        // Every delivery report is awaited: librdkafka retries until message.timeout.ms, then reports failure.
        while !producer.flush(timeoutMs: 1000) {
            StandardError.note("waiting for \(producer.outstanding) delivery reports")
        }
        if producer.failedCount > 0 { throw deliveryFailure() }
        if !resumeCutoffs.isEmpty {
            let names = resumeCutoffs.keys.sorted().map(\.description).joined(separator: ", ")
            StandardError.note("warning: resume point not met in this selection for \(names): was the first run's selection different?")
        }
        if !unknownSources.isEmpty {
            StandardError.note("warning: records of unknown sources not replayed: \(unknownSources.sorted().joined(separator: ", "))")
        }
        if let firstMalformed {
            StandardError.note("warning: \(malformed) malformed frames not replayable as \(encoder.format.rawValue); first: \(firstMalformed)")
        }
    }

    private func deliveryFailure() -> ReplayError {
        // Drain what is still queued so the count is final (librdkafka fails the rest after a fatal error).
        _ = producer.flush(timeoutMs: 30_000)
        return ReplayError.failed("\(producer.failedCount) of \(produced) messages were not delivered; first error: "
                                  + (producer.firstError.map { "\($0)" } ?? "unknown") + "; re-run to resume")
    }

    var progressNote: String { "\(producer.outstanding) awaiting delivery" }

    var summary: [String: SummaryValue] {
        var partitions: [String: SummaryValue] = [:]
        for (target, count) in perPartition { partitions[target.description] = .int(count) }
        for (target, count) in slots where count > 0 {
            if case .int(let earlier) = partitions[target.description] ?? .int(0) { partitions[target.description] = .int(earlier + count) }
        }
        return [
            "produced": .int(produced),
            "delivered": .int(producer.deliveredCount),
            "failed": .int(producer.failedCount),
            "first_error": producer.firstError.map { .string("\($0)") } ?? .null,
            "skipped_already_in_kafka": .int(skippedForResume),
            "frames_not_trades": .int(notTrade),
            "frames_malformed": .int(malformed),
            "per_partition": .object(partitions),
        ]
    }
}
