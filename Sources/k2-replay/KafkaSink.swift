import Foundation
import Bronze
import Kafka
import K2CLI
import SegmentLog

/// `--to kafka`: K2's messages (no headers unless `--provenance`) produced with an idempotent producer;
/// every delivery report awaited. Resume (docs/replay.md): per target partition it skips the first
/// `delivered` messages the log sends there (the checkpoint's acknowledged prefix), then matches the next
/// ones against the partition's tail after the checkpoint (`PartitionTail`) and produces from the first
/// one not found. Delivery reports are counted per partition and written to the checkpoint about every
/// `checkpointIntervalNanos`.
///
/// Threads: `write` (the reading thread) encodes messages into an `EncodedBatch`. Unpaced, full batches go
/// through a `BatchPipe` to a producing thread, so reading and encoding the log overlap with producing;
/// paced, each record's batch is produced at once on the reading thread. Everything below "producing side"
/// is touched by one thread at a time: the producing thread until `finish` has joined it, then the caller's.
final class KafkaSink: ReplaySink {
    private let producer: KafkaProducer
    private var encoder: BronzeRecordEncoder
    private let router: KafkaTargetRouter
    private let pacer: Pacer
    private let logPath: String
    private let provenance: Bool
    private let store: CheckpointStore
    private var checkpoint: ReplayCheckpoint
    private let checkpointIntervalNanos: Int64
    private var lastCheckpointNanos: Int64
    /// The provenance header of the message being produced (written in place, no allocation per message).
    private let headerBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: ProvenanceID.maxEncodedCount)

    // Producing side. Hot properties are marked `@exclusivity(unchecked)`: each is used by one thread at a time
    // and never passed inout while accessed again; the runtime checks cost about 10% of the replay's CPU.
    @exclusivity(unchecked) private(set) var produced = 0
    private var skippedForResume = 0
    private var pipe: BatchPipe?
    private var producerDone: DispatchSemaphore?

    // Reading side.
    @exclusivity(unchecked) private var batch: EncodedBatch
    /// `source/stream` per stream index, for error messages on the producing side.
    private var labels: [String] = []
    private static let batchMessages = 2048
    private static let batchBytes = 1 << 20
    private var notTrade = 0
    private var malformed = 0
    private var firstMalformed: String?
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
    @exclusivity(unchecked) private var streams: [StreamState] = []
    @exclusivity(unchecked) private var currentStream = 0

    /// One per target partition, in the checkpoint's order (the index is also the producer's delivery tally).
    private struct Slot {
        var target: TopicPartition
        var topic: KafkaTopic
        var produced = 0
        /// Resume: messages still to pass over because the checkpoint counts them as delivered ...
        var skipRemaining = 0
        /// ... then the partition's messages after the checkpoint, matched against the next ones.
        var tail: PartitionTail?
        var resuming: Bool { skipRemaining > 0 || tail != nil }
    }
    @exclusivity(unchecked) private var slots: [Slot] = []
    private var slotByTarget: [TopicPartition: Int] = [:]
    /// Slots still resuming; 0 makes the hot path skip the resume checks.
    @exclusivity(unchecked) private var resumingSlots = 0
    /// Per exchange (binance, kraken): key → index in `slots`, for a stream's first record or a changed key.
    private var slotByKey: [[String: Int]] = [[:], [:]]
    /// The record being encoded, for the skip callback (made once, not per record).
    @exclusivity(unchecked) private var currentSequence: UInt64 = 0
    private var skipHandler: ((BronzeSkipReason, Error?) -> Void)?

    init(producer: KafkaProducer, format: BronzeValueFormat, schemaIds: [BronzeExchange: Int32], router: KafkaTargetRouter,
         pacer: Pacer, logPath: String, provenance: Bool, plan: ResumePlanner.Plan, store: CheckpointStore,
         checkpointIntervalSeconds: Double) throws {
        self.producer = producer
        encoder = BronzeRecordEncoder(format: format, schemaIds: schemaIds)
        self.router = router
        self.pacer = pacer
        self.logPath = logPath
        self.provenance = provenance
        self.store = store
        checkpoint = plan.checkpoint
        checkpointIntervalNanos = Int64(checkpointIntervalSeconds * 1e9)
        lastCheckpointNanos = Pacer.monotonicNanos()
        for (index, entry) in plan.checkpoint.partitions.enumerated() {
            var slot = Slot(target: entry.target, topic: try producer.topic(entry.topic))
            slot.skipRemaining = entry.delivered
            slot.tail = plan.tails[index]
            if slot.resuming { resumingSlots += 1 }
            slotByTarget[entry.target] = index
            slots.append(slot)
        }
        producer.trackDeliveries(plan.checkpoint.partitions.map { PartitionDelivery(delivered: $0.delivered, lastOffset: $0.lastOffset) })
        if pacer.mode == .unpaced {
            let pipe = BatchPipe(batches: 4, capacity: KafkaSink.batchMessages, byteCapacity: KafkaSink.batchBytes + 64 * 1024)
            self.pipe = pipe
            batch = try pipe.takeFree()
        } else {
            batch = EncodedBatch(capacity: 64, byteCapacity: 64 * 1024)
        }
        skipHandler = { [unowned self] reason, error in self.skipped(reason, error) }
        if let pipe { startProducing(pipe) }
    }

    /// The producing thread: delivers batches until the pipe is closed; after a failure it only recycles them.
    private func startProducing(_ pipe: BatchPipe) {
        let done = DispatchSemaphore(value: 0)
        producerDone = done
        let thread = Thread { [self] in
            var stopped = false
            while let batch = pipe.receive() {
                if !stopped {
                    do {
                        try deliver(batch)
                        try checkpointIfDue()
                    } catch {
                        stopped = true
                        pipe.fail(error)
                    }
                }
                pipe.recycle(batch)
            }
            done.signal()
        }
        thread.name = "k2-replay produce"
        thread.start()
    }

    /// Closes the pipe and waits for the producing thread to finish; the error it stopped with, if any.
    private func joinProducing() -> Error? {
        guard let pipe, let done = producerDone else { return nil }
        pipe.close()
        done.wait()
        producerDone = nil
        return pipe.failed
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
        labels.append("\(record.source)/\(record.stream)")
        return streams.count - 1
    }

    private func slot(_ target: TopicPartition) throws -> Int {
        guard let slot = slotByTarget[target] else {
            throw ReplayError.failed("\(target) is not among the partitions planned at start (does \(target.topic) have that many?)")
        }
        return slot
    }

    private func slot(_ exchange: BronzeExchange, _ key: String) throws -> Int {
        let table = exchange == .binance ? 0 : 1
        if let slot = slotByKey[table][key] { return slot }
        let topic = router.topic(for: exchange)
        let slot = try self.slot(TopicPartition(topic: topic, partition: try router.partition(topic: topic, key: key)))
        slotByKey[table][key] = slot
        return slot
    }

    /// Resume: true when this message is already in Kafka (counted by the checkpoint, or found in the tail).
    private func alreadyDelivered(_ index: Int, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestampMs: Int64) -> Bool {
        guard slots[index].resuming else { return false }
        var found = false
        if slots[index].skipRemaining > 0 {
            slots[index].skipRemaining -= 1
            found = true
        } else if let offset = slots[index].tail!.match(key: key, value: value, timestampMs: timestampMs) {
            producer.noteAlreadyDelivered(tally: index, offset: offset)
            found = true
            if slots[index].tail!.isExhausted { slots[index].tail = nil }
        } else {
            slots[index].tail = nil   // the first message not found: produce from here on
        }
        if !slots[index].resuming { resumingSlots -= 1 }
        if found { skippedForResume += 1 }
        return found
    }

    func write(_ record: LogRecord) throws -> Int {
        guard record.kind == .data else { return 0 }
        let streamIndex = streamIndex(record)
        currentStream = streamIndex
        currentSequence = record.sequence
        let hash = streams[streamIndex].hash
        var made = 0
        if record.source.hasPrefix("kafka:") {
            // A record captured from Kafka goes back to its topic (or --topic) and partition with its key,
            // timestamp and headers.
            let coordinates = record.kafka
            let slot = try self.slot(TopicPartition(topic: router.topic(forKafkaSource: record.source),
                                                    partition: coordinates?.partition ?? Int32(record.stream) ?? 0))
            let headers = (coordinates?.headers ?? []).map { KafkaMessageHeader(name: $0.name, value: $0.value) }
            let timestampMs = coordinates?.timestampMs ?? record.receiveTimeNanos / 1_000_000
            record.payload.withUnsafeBytes { value in
                if let key = coordinates?.key {
                    key.withUnsafeBytes { key in
                        batch.append(slot: slot, key: key, value: value, timestampMs: timestampMs, receiveTimeNanos: record.receiveTimeNanos,
                                     stream: streamIndex, streamHash: hash, sequence: record.sequence, tradeIndex: 0, headers: headers)
                    }
                } else {
                    batch.append(slot: slot, key: nil, value: value, timestampMs: timestampMs, receiveTimeNanos: record.receiveTimeNanos,
                                 stream: streamIndex, streamHash: hash, sequence: record.sequence, tradeIndex: 0, headers: headers)
                }
            }
            made = 1
        } else {
            let timestampMs = record.receiveTimeNanos / 1_000_000
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
                var key = view.key
                key.withUTF8 { keyBytes in
                    batch.append(slot: slot, key: UnsafeRawBufferPointer(keyBytes), value: view.value, timestampMs: timestampMs,
                                 receiveTimeNanos: record.receiveTimeNanos, stream: streamIndex, streamHash: hash,
                                 sequence: record.sequence, tradeIndex: view.tradeIndex)
                }
                made += 1
            }
        }
        if let pipe {
            if batch.count >= KafkaSink.batchMessages || batch.bytes.count >= KafkaSink.batchBytes {
                batch.labels = labels
                do {
                    try pipe.send(batch)
                    batch = try pipe.takeFree()
                } catch {
                    _ = joinProducing()
                    throw error
                }
            }
        } else {
            // Paced: produce now (the pacer spaces the messages), stopping at the first failed delivery.
            if producer.failedCount > 0 { throw deliveryFailure() }
            batch.labels = labels
            defer { batch.removeAll() }
            try deliver(batch)
            if made > 0 { try checkpointIfDue() }
        }
        return made
    }

    /// Producing side: produces the batch's messages in order, passing over what resume finds already in Kafka.
    private func deliver(_ batch: EncodedBatch) throws {
        // Stop at the first failed delivery: what follows would be retried by a rerun anyway.
        if producer.failedCount > 0 { throw deliveryFailure() }
        let paced = pacer.mode != .unpaced
        try batch.bytes.withUnsafeBytes { base in
            for entry in batch.entries {
                let slot = Int(entry.slot)
                let key = entry.keyLength < 0 ? nil
                    : UnsafeRawBufferPointer(rebasing: base[entry.keyStart..<(entry.keyStart + Int(entry.keyLength))])
                let value = UnsafeRawBufferPointer(rebasing: base[entry.valueStart..<(entry.valueStart + entry.valueLength)])
                if resumingSlots > 0 && alreadyDelivered(slot, key: key, value: value, timestampMs: entry.timestampMs) { continue }
                if paced { pacer.awaitTurn(receiveTimeNanos: entry.receiveTimeNanos) { producer.poll(timeoutMs: $0) } }
                do {
                    if entry.headerIndex >= 0 || provenance {
                        try produceWithHeaders(batch, entry, key, value)
                    } else {
                        try producer.produce(to: slots[slot].topic, partition: slots[slot].target.partition, key: key,
                                             value: value, timestampMs: entry.timestampMs, tally: slot)
                    }
                } catch let error as KafkaError {
                    throw ReplayError.failed("\(error) (log record \(batch.labels[Int(entry.stream)]) sequence \(entry.sequence))")
                }
                slots[slot].produced += 1
                produced += 1
            }
        }
    }

    /// Records captured from Kafka (their headers) and `--provenance` (the k2-replay-id header).
    private func produceWithHeaders(_ batch: EncodedBatch, _ entry: EncodedBatch.Entry, _ key: UnsafeRawBufferPointer?,
                                    _ value: UnsafeRawBufferPointer) throws {
        let slot = Int(entry.slot)
        let id = ProvenanceID(streamHash: entry.streamHash, sequence: entry.sequence, tradeIndex: Int(entry.tradeIndex))
        let headerIndex = Int(entry.headerIndex)
        if headerIndex < 0 {
            let header = UnsafeRawBufferPointer(start: headerBytes, count: id.encode(to: headerBytes))
            let name = UnsafeRawPointer(ProvenanceID.headerNameC.utf8Start).assumingMemoryBound(to: CChar.self)
            try producer.produce(to: slots[slot].topic, partition: slots[slot].target.partition, key: key, value: value,
                                 timestampMs: entry.timestampMs, header: (name, header), tally: slot)
            return
        }
        var headers = batch.headerLists[headerIndex]
        if provenance {
            var encoded: [UInt8] = []
            id.encode(into: &encoded)
            headers.append(KafkaMessageHeader(name: ProvenanceID.headerName, value: encoded))
        }
        try producer.produce(topic: slots[slot].target.topic, partition: slots[slot].target.partition, key: key, value: value,
                             timestampMs: entry.timestampMs, headers: headers, opaque: slot + 1)
    }

    /// Writes the checkpoint when the interval has passed (called per batch unpaced, per record paced).
    private func checkpointIfDue() throws {
        let now = Pacer.monotonicNanos()
        if now - lastCheckpointNanos < checkpointIntervalNanos { return }
        lastCheckpointNanos = now
        try writeCheckpoint(complete: false)
    }

    /// The checkpoint as the delivery reports served so far say: a prefix of each partition's messages.
    private func writeCheckpoint(complete: Bool) throws {
        for index in checkpoint.partitions.indices {
            let delivery = producer.delivery(tally: index)
            checkpoint.partitions[index].delivered = delivery.delivered
            checkpoint.partitions[index].lastOffset = delivery.lastOffset
        }
        checkpoint.complete = complete
        try store.write(checkpoint)
    }

    func finish() throws {
        if let pipe {
            if batch.count > 0 {
                batch.labels = labels
                do { try pipe.send(batch) } catch { _ = joinProducing(); throw error }
            }
            if let error = joinProducing() { throw error }
        }
        // Every delivery report is awaited: librdkafka retries until message.timeout.ms, then reports failure.
        while !producer.flush(timeoutMs: 1000) {
            StandardError.note("waiting for \(producer.outstanding) delivery reports")
            try writeCheckpoint(complete: false)
        }
        if producer.failedCount > 0 { throw deliveryFailure() }
        try writeCheckpoint(complete: !Signals.shouldStop && resumingSlots == 0)
        let unmet = slots.filter { $0.skipRemaining > 0 }.map(\.target.description)
        if !unmet.isEmpty {
            StandardError.note("warning: the checkpoint counts more messages for \(unmet.joined(separator: ", ")) than this "
                               + "selection sends there: was the first run's selection different?")
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
        // The acknowledged prefixes are still exact: keep them, so the rerun starts after them.
        var note = ""
        do { try writeCheckpoint(complete: false) } catch { note = " (\(error))" }
        return ReplayError.failed("\(producer.failedCount) of \(produced) messages were not delivered; first error: "
                                  + (producer.firstError.map { "\($0)" } ?? "unknown") + "; re-run to resume" + note)
    }

    var progressNote: String { "\(producer.outstanding) awaiting delivery" }

    var summary: [String: SummaryValue] {
        var partitions: [String: SummaryValue] = [:]
        for slot in slots where slot.produced > 0 { partitions[slot.target.description] = .int(slot.produced) }
        return [
            "produced": .int(produced),
            "delivered": .int(producer.deliveredCount),
            "failed": .int(producer.failedCount),
            "first_error": producer.firstError.map { .string("\($0)") } ?? .null,
            "skipped_already_in_kafka": .int(skippedForResume),
            "frames_not_trades": .int(notTrade),
            "frames_malformed": .int(malformed),
            "per_partition": .object(partitions),
            "checkpoint": .string(store.path(for: checkpoint.identity)),
        ]
    }
}
