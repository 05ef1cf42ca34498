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
    /// The provenance header of the message being produced (written in place, no allocation per message).
    private let headerBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: ProvenanceID.maxEncodedCount)

    private(set) var produced = 0
    private var skippedForResume = 0
    private var notTrade = 0
    private var malformed = 0
    private var firstMalformed: String?
    private var perPartition: [TopicPartition: Int] = [:]
    private var unknownSources: Set<String> = []

    /// What the sink keeps per log stream: found by comparing the record's source and stream strings with the
    /// last stream's (records of one stream share those strings' storage), never by hashing per message.
    private struct StreamState {
        var source: String
        var stream: String
        var hash: UInt64
        /// The key last produced from this stream and its slot: a stream's records share their key.
        var lastKey: String?
        var lastSlot = 0
    }
    private var streams: [StreamState] = []
    private var currentStream = 0
    /// Target partitions with their resolved topic handles and message counts.
    private var slots: [(target: TopicPartition, topic: KafkaTopic, count: Int)] = []
    /// Per exchange (binance, kraken): key → index in `slots`, for a stream's first record or a changed key.
    private var slotByKey: [[String: Int]] = [[:], [:]]
    /// The record being encoded, for the skip callback (made once, not per record).
    private var currentSequence: UInt64 = 0
    private var skipHandler: ((BronzeSkipReason, Error?) -> Void)?

    init(producer: KafkaProducer, format: BronzeValueFormat, schemaIds: [BronzeExchange: Int32], router: KafkaTargetRouter,
         pacer: Pacer, logPath: String, provenance: Bool, resumeCutoffs: [TopicPartition: ProvenanceID]) {
        self.producer = producer
        encoder = BronzeRecordEncoder(format: format, schemaIds: schemaIds)
        self.router = router
        self.pacer = pacer
        self.logPath = logPath
        self.provenance = provenance
        self.resumeCutoffs = resumeCutoffs
        skipHandler = { [unowned self] reason, error in self.skipped(reason, error) }
    }

    deinit { headerBytes.deallocate() }

    private func skipped(_ reason: BronzeSkipReason, _ error: Error?) {
        let stream = streams[currentStream]
        switch reason {
        case .notATrade: notTrade += 1
        case .malformed:
            malformed += 1
            if firstMalformed == nil {
                firstMalformed = "\(stream.source)/\(stream.stream) sequence \(currentSequence): \(error.map { "\($0)" } ?? "")"
            }
        case .unknownSource: unknownSources.insert(stream.source)
        }
    }

    /// The index of the record's stream in `streams`.
    @inline(__always)
    private func streamIndex(_ record: LogRecord) -> Int {
        if currentStream < streams.count, streams[currentStream].stream == record.stream,
           streams[currentStream].source == record.source {
            return currentStream
        }
        if let found = streams.firstIndex(where: { $0.stream == record.stream && $0.source == record.source }) { return found }
        let hash = ProvenanceID.streamHash(logPath: logPath, source: record.source, stream: record.stream)
        streams.append(StreamState(source: record.source, stream: record.stream, hash: hash))
        return streams.count - 1
    }

    private func slot(_ exchange: BronzeExchange, _ key: String) throws -> Int {
        let table = exchange == .binance ? 0 : 1
        if let slot = slotByKey[table][key] { return slot }
        let topic = router.topic(for: exchange)
        let target = TopicPartition(topic: topic, partition: try router.partition(topic: topic, key: key))
        let slot = try slots.firstIndex { $0.target == target } ?? {
            slots.append((target, try producer.topic(topic), 0))
            return slots.count - 1
        }()
        slotByKey[table][key] = slot
        return slot
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
        let streamIndex = streamIndex(record)
        currentStream = streamIndex
        currentSequence = record.sequence
        let hash = streams[streamIndex].hash
        if record.source.hasPrefix("kafka:") { return try writeKafkaSourced(record, hash) }
        var made = 0
        try encoder.encode(source: record.source, stream: record.stream, payload: record.payload,
                           receiveTimeNanos: record.receiveTimeNanos, skip: skipHandler) { view in
            let slot: Int
            if let lastKey = streams[streamIndex].lastKey, lastKey == view.key {
                slot = streams[streamIndex].lastSlot
            } else {
                slot = try self.slot(view.exchange, view.key)
                streams[streamIndex].lastKey = view.key
                streams[streamIndex].lastSlot = slot
            }
            let id = ProvenanceID(streamHash: hash, sequence: record.sequence, tradeIndex: view.tradeIndex)
            if !resumeCutoffs.isEmpty && alreadyDelivered(slots[slot].target, id) { return }
            pacer.awaitTurn(receiveTimeNanos: record.receiveTimeNanos) { producer.poll(timeoutMs: $0) }
            var key = view.key
            do {
                try key.withUTF8 { keyBytes in
                    if provenance {
                        let header = UnsafeRawBufferPointer(start: headerBytes, count: id.encode(to: headerBytes))
                        let name = UnsafeRawPointer(ProvenanceID.headerNameC.utf8Start).assumingMemoryBound(to: CChar.self)
                        try producer.produce(to: slots[slot].topic, partition: slots[slot].target.partition,
                                             key: UnsafeRawBufferPointer(keyBytes), value: view.value,
                                             timestampMs: record.receiveTimeNanos / 1_000_000, header: (name, header))
                    } else {
                        try producer.produce(to: slots[slot].topic, partition: slots[slot].target.partition,
                                             key: UnsafeRawBufferPointer(keyBytes), value: view.value,
                                             timestampMs: record.receiveTimeNanos / 1_000_000)
                    }
                }
            } catch let error as KafkaError {
                throw ReplayError.failed("\(error) (log record \(record.source)/\(record.stream) sequence \(record.sequence))")
            }
            slots[slot].count += 1
            produced += 1
            made += 1
        }
        return made
    }

    /// A record captured from Kafka goes back to its topic (or --topic) and partition with its key, timestamp
    /// and headers, plus the provenance header.
    private func writeKafkaSourced(_ record: LogRecord, _ hash: UInt64) throws -> Int {
        let coordinates = record.kafka
        let target = TopicPartition(topic: router.topic(forKafkaSource: record.source),
                                    partition: coordinates?.partition ?? Int32(record.stream) ?? 0)
        let id = ProvenanceID(streamHash: hash, sequence: record.sequence, tradeIndex: 0)
        if alreadyDelivered(target, id) { return 0 }
        var headers = (coordinates?.headers ?? []).map { KafkaMessageHeader(name: $0.name, value: $0.value) }
        if provenance {
            var value: [UInt8] = []
            id.encode(into: &value)
            headers.append(KafkaMessageHeader(name: ProvenanceID.headerName, value: value))
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
        for (target, _, count) in slots where count > 0 {
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
