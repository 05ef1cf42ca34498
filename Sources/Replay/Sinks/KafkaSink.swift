import K2Core
import Foundation
import Bronze
import Kafka
import SegmentLog

/// `--to kafka`: K2's messages (no headers unless `--provenance`) produced with an idempotent producer;
/// every delivery report awaited. Resume (docs/replay.md) works per target partition and log stream
/// ("pair"): a stream's messages to one partition come in (sequence, trade) order and reach it as a gapless
/// prefix, whatever the other streams do. A pair skips its messages up to its acknowledged point, then looks
/// for the next ones in the partition's tail (`PartitionTail`) from its own position, and produces from the
/// first one not found. Delivery reports are counted per partition by the producer; the sink keeps the
/// pairs of the messages still awaiting theirs in produce order and turns the counts into per-pair progress,
/// written to the checkpoint about every `checkpointIntervalNanos`.
///
/// Threads: `write` (the reading thread) encodes messages into an `EncodedBatch`. Unpaced, full batches go
/// through a `BatchPipe` to a producing thread, so reading and encoding the log overlap with producing;
/// paced, each record's batch is produced at once on the reading thread. Everything below "producing side"
/// is touched by one thread at a time: the producing thread until `finish` has joined it, then the caller's.
final class KafkaSink: ReplaySink {
    private let producer: KafkaProducer
    @exclusivity(unchecked) private var encoder: BronzeRecordEncoder
    private let router: KafkaTargetRouter
    private let pacer: Pacer
    private let logPath: String
    private let provenance: Bool
    private let store: CheckpointStore
    private let checkpointWriter: CheckpointWriter
    private var checkpoint: ReplayCheckpoint
    private let checkpointIntervalNanos: Int64
    private let stop: CancellationSignal
    private let diagnostics: ReplayDiagnostics
    private var lastCheckpointNanos: Int64
    /// A looped replay's pass: its messages' times and trade ids re-stamped (nil: as captured).
    @exclusivity(unchecked) private var passClock: PassClock?
    /// The provenance header of the message being produced (written in place, no allocation per message).
    private let headerBytes = UnsafeMutablePointer<UInt8>.allocate(capacity: ProvenanceID.maxEncodedCount)

    // Producing side. Hot properties are marked `@exclusivity(unchecked)`: each is used by one thread at a time
    // and never passed inout while accessed again; the runtime checks cost about 10% of the replay's CPU.
    @exclusivity(unchecked) private(set) var produced = 0
    private var skippedForResume = 0
    @exclusivity(unchecked) private var pipe: BatchPipe?
    private var producerDone: DispatchSemaphore?

    // Reading side.
    @exclusivity(unchecked) private var batch: EncodedBatch
    /// `source/stream` per stream index, for error messages on the producing side, and the stream's key.
    private var labels: [String] = []
    private var streamKeys: [StreamKey] = []
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
        /// Captured from a Kafka topic (source `kafka:…`): replayed to its own partition, not encoded.
        var fromKafka: Bool
        /// The key last encoded from this stream and its slot: a stream's records share their key.
        var lastKey: String?
        var lastSlot = 0
    }
    @exclusivity(unchecked) private var streams: [StreamState] = []
    @exclusivity(unchecked) private var currentStream = 0
    /// The streams of the reader whose records `write(view:)` gets, by the views' stream index.
    var readerStreams: [StreamKey] = []
    /// Per stream index of that reader: the index in `streams` (-1: not met yet).
    @exclusivity(unchecked) private var streamOfReaderStream: [Int] = []

    /// One per target partition, in the checkpoint's order (the index is also the producer's delivery tally).
    private struct Slot {
        var target: TopicPartition
        var topic: KafkaTopic
        var produced = 0
        /// The high watermark before this run produced: what it produces lands at or above it.
        var runStart: Int64
        /// Resume: the partition's messages after the lowest `fromOffset` of its pairs.
        var tail: PartitionTail?
        /// The pairs and points of the messages produced here whose delivery reports were not counted yet.
        var pending = PendingMessages()
        /// Delivery reports counted from the producer's tally, and the offset of the last (-1: none this run).
        var drained = 0
        var lastDrainedOffset: Int64 = -1
        var last: ReplayCheckpoint.LastMessage?
        /// Where messages produced from now on, and those awaiting reports, land at the earliest.
        var nextOffset: Int64 { Swift.max(runStart, lastDrainedOffset + 1) }
    }
    @exclusivity(unchecked) private var slots: [Slot] = []
    private var slotByTarget: [TopicPartition: Int] = [:]

    // Producing side: one log stream's messages in one partition.
    private struct Pair {
        var slot: Int
        var progress: ReplayCheckpoint.StreamProgress
        /// Resume: false while the stream may still meet messages up to its acknowledged point or find its
        /// next ones in the tail; true once it produces (and for pairs new to this run).
        var resolved: Bool
        /// Whether this run met the acknowledged point itself (a warning otherwise).
        var reachedAcknowledged = false
        /// Position in the slot's tail from which this stream's next message is looked for.
        var cursor = 0
        /// The drain round that last set `progress.recheck` (one per batch of reports counted).
        var recheckRound = -1
    }
    @exclusivity(unchecked) private var pairs: [Pair] = []
    private var pairByKey: [PairKey: Int] = [:]
    private struct PairKey: Hashable { var slot: Int; var stream: Int }
    /// Per stream index: the slot and pair of its last message (a stream's messages share their partition).
    @exclusivity(unchecked) private var pairCache: [(slot: Int32, pair: Int32)] = []
    /// Pairs not resolved yet; 0 makes the hot path skip the resume checks.
    @exclusivity(unchecked) private var unresolvedPairs = 0
    private var drainRound = 0
    /// Per exchange (binance, kraken): key → index in `slots`, for a stream's first record or a changed key.
    private var slotByKey: [[String: Int]] = [[:], [:]]
    /// The record being encoded, for the skip callback (made once, not per record).
    @exclusivity(unchecked) private var currentSequence: UInt64 = 0
    @exclusivity(unchecked) private var skipHandler: ((BronzeSkipReason, Error?) -> Void)?

    /// A message of the source as the replay would produce it: key, value and timestamp.
    typealias SourceMessage = (key: [UInt8]?, value: [UInt8]?, timestampMs: Int64)

    /// What the source holds where a checkpoint's last message came from.
    enum SourceLookup {
        case found(SourceMessage)
        /// Not there: the source is not the one the checkpoint was made from.
        case absent
        /// Deleted by the source's retention: nothing to compare, nothing wrong.
        case removedByRetention
    }

    /// `logPath` names the source (a log directory, or `kafka://…` for a topic) in provenance and messages.
    /// `sourceMessage` finds a checkpoint's last message in the source; nil: read it from the log at `logPath`.
    /// `readsAfterAcknowledged`: the source starts each stream after its acknowledged point (a Kafka topic read
    /// from there), so not meeting that point is expected, not a sign of another selection.
    init(producer: KafkaProducer, format: BronzeValueFormat, schemaIds: [BronzeExchange: Int32], router: KafkaTargetRouter,
         pacer: Pacer, logPath: String, provenance: Bool, plan: ResumePlanner.Plan, store: CheckpointStore,
         checkpointIntervalSeconds: Double, sourceMessage: ((ReplayCheckpoint.LastMessage) throws -> SourceLookup)? = nil,
         readsAfterAcknowledged: Bool = false, restamp: PassStamp? = nil, stop: CancellationSignal,
         diagnostics: @escaping ReplayDiagnostics) throws {
        self.stop = stop
        self.diagnostics = diagnostics
        self.producer = producer
        encoder = BronzeRecordEncoder(format: format, schemaIds: schemaIds)
        encoder.tradeIdOffset = restamp?.tradeIdOffset ?? 0
        passClock = restamp.map { PassClock(stamp: $0, pacing: pacer.mode) }
        if let restamp { pacer.startSchedule(atWallClockMs: restamp.anchorMs) }
        self.router = router
        self.pacer = pacer
        self.logPath = logPath
        self.provenance = provenance
        self.store = store
        checkpointWriter = CheckpointWriter(store: store)
        checkpoint = plan.checkpoint
        checkpointIntervalNanos = Int64(checkpointIntervalSeconds * 1e9)
        lastCheckpointNanos = Pacer.monotonicNanos()
        if pacer.mode == .unpaced {
            let pipe = BatchPipe(batches: 4, capacity: KafkaSink.batchMessages, byteCapacity: KafkaSink.batchBytes + 64 * 1024)
            self.pipe = pipe
            batch = try pipe.takeFree()
        } else {
            batch = EncodedBatch(capacity: 64, byteCapacity: 64 * 1024)
        }
        skipHandler = { [unowned self] reason, error in self.skipped(reason, error) }
        for (index, entry) in plan.checkpoint.partitions.enumerated() {
            var slot = Slot(target: entry.target, topic: try producer.topic(entry.topic), runStart: plan.highWatermarks[index])
            slot.tail = plan.tails[index]
            slot.last = entry.last
            slotByTarget[entry.target] = index
            slots.append(slot)
            for progress in entry.streams {
                let stream = streamIndex(source: progress.source, stream: progress.stream)
                var pair = Pair(slot: index, progress: progress, resolved: false)
                pair.reachedAcknowledged = readsAfterAcknowledged
                pair.cursor = slot.tail?.index(atOrAfter: progress.fromOffset) ?? 0
                if progress.acknowledged == nil && slot.tail == nil { pair.resolved = true }
                if !pair.resolved { unresolvedPairs += 1 }
                pairByKey[PairKey(slot: index, stream: stream)] = pairs.count
                pairs.append(pair)
            }
        }
        producer.trackDeliveries(Array(repeating: PartitionDelivery(), count: slots.count))
        // A re-stamped pass's message times depend on its place in the pass, which a single record read back
        // cannot tell: its checkpoint's identity names the pass and its anchor instead, and the tails are
        // still matched by key, value and timestamp.
        if restamp == nil { try checkLastMessages(plan, sourceMessage: sourceMessage ?? logMessage) }
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
        return streamIndex(source: record.source, stream: record.stream)
    }

    private func streamIndex(source: String, stream: String) -> Int {
        if let found = streams.firstIndex(where: { $0.stream == stream && $0.source == source }) { return found }
        let hash = ProvenanceID.streamHash(logPath: logPath, source: source, stream: stream)
        streams.append(StreamState(source: source, stream: stream, hash: hash, fromKafka: source.hasPrefix("kafka:")))
        labels.append("\(source)/\(stream)")
        streamKeys.append(StreamKey(source: source, stream: stream))
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

    /// The index of the pair of `stream` in `slot`, recorded when new. A new pair must be in the checkpoint
    /// before its first message is produced, so that a rerun knows where to look for it (nothing of it lies
    /// below its `fromOffset`): `deliver` records a batch's pairs first and writes the checkpoint once.
    /// Producing side (`key`: the stream's source and name, from the batch).
    @inline(__always)
    private func pair(slot: Int, stream: Int, key: @autoclosure () -> StreamKey) -> Int {
        if stream < pairCache.count, pairCache[stream].slot == Int32(slot) { return Int(pairCache[stream].pair) }
        while pairCache.count <= stream { pairCache.append((-1, -1)) }
        let index: Int
        if let known = pairByKey[PairKey(slot: slot, stream: stream)] {
            index = known
        } else {
            let key = key()
            let progress = ReplayCheckpoint.StreamProgress(source: key.source, stream: key.stream, delivered: 0,
                                                           acknowledged: nil, fromOffset: slots[slot].nextOffset, recheck: nil)
            pairByKey[PairKey(slot: slot, stream: stream)] = pairs.count
            pairs.append(Pair(slot: slot, progress: progress, resolved: true))
            index = pairs.count - 1
        }
        pairCache[stream] = (Int32(slot), Int32(index))
        return index
    }

    /// Resume: true when this message of an unresolved pair is already in Kafka (up to the acknowledged point,
    /// or found in the tail after the pair's position).
    private func alreadyDelivered(_ index: Int, at point: ReplayCheckpoint.Point, key: UnsafeRawBufferPointer?,
                                  value: UnsafeRawBufferPointer?, timestampMs: Int64) -> Bool {
        let slot = pairs[index].slot
        if let acknowledged = pairs[index].progress.acknowledged, point <= acknowledged {
            if point == acknowledged { pairs[index].reachedAcknowledged = true }
            // Acknowledged messages that may lie in the tail: found (and used up) first, so that a later
            // byte-identical message of this stream is not taken for one of them.
            if let recheck = pairs[index].progress.recheck, point >= recheck, slots[slot].tail != nil,
               let found = slots[slot].tail!.match(from: pairs[index].cursor, key: key, value: value, timestampMs: timestampMs) {
                pairs[index].cursor = found + 1
            }
            skippedForResume += 1
            return true
        }
        if slots[slot].tail != nil,
           let found = slots[slot].tail!.match(from: pairs[index].cursor, key: key, value: value, timestampMs: timestampMs) {
            let offset = slots[slot].tail!.offsets[found]
            pairs[index].cursor = found + 1
            pairs[index].progress.delivered += 1
            pairs[index].progress.acknowledged = point
            pairs[index].progress.fromOffset = offset + 1
            pairs[index].progress.recheck = nil
            if offset > slots[slot].last?.offset ?? -1 {
                slots[slot].last = .init(source: pairs[index].progress.source, stream: pairs[index].progress.stream, at: point, offset: offset)
            }
            skippedForResume += 1
            return true
        }
        // The first message not in Kafka: this stream produces from here on.
        pairs[index].resolved = true
        pairs[index].progress.recheck = nil
        unresolvedPairs -= 1
        return false
    }

    func write(_ record: LogRecord) throws -> Int {
        guard record.kind == .data else { return 0 }
        let stream = streamIndex(record)
        return try record.payload.withUnsafeBytes { payload in
            try write(stream: stream, payload: payload, receiveTimeNanos: record.receiveTimeNanos, sequence: record.sequence,
                      kafka: record.kafka)
        }
    }

    /// `write` of a record read as a view of the reader's block buffer (`SegmentLogReader.next(view:)`): the
    /// frame is scanned where it lies and its message copied once, into the batch. `view.streamIndex` indexes
    /// `readerStreams`, which must be set first (a reader's streams keep their indexes for its life).
    func write(view: LogRecordView) throws -> Int {
        guard view.kind == .data else { return 0 }
        var stream = view.streamIndex < streamOfReaderStream.count ? streamOfReaderStream[view.streamIndex] : -1
        if stream < 0 {
            let key = readerStreams[view.streamIndex]
            stream = streamIndex(source: key.source, stream: key.stream)
            while streamOfReaderStream.count <= view.streamIndex { streamOfReaderStream.append(-1) }
            streamOfReaderStream[view.streamIndex] = stream
        }
        return try write(stream: stream, payload: view.payload, receiveTimeNanos: view.receiveTimeNanos, sequence: view.sequence,
                         kafka: view.kafka)
    }

    /// What both `write`s do with a data record of stream `streamIndex`: its messages go into the batch, and a
    /// full batch to the producing thread (unpaced) or straight to Kafka (paced).
    private func write(stream streamIndex: Int, payload: UnsafeRawBufferPointer, receiveTimeNanos: Int64, sequence: UInt64,
                       kafka coordinates: @autoclosure () -> KafkaCoordinates?) throws -> Int {
        currentStream = streamIndex
        currentSequence = sequence
        let hash = streams[streamIndex].hash
        var made = 0
        // The message's time: the record's receive time, or its pass's stamp (pacing keeps the receive time).
        let stampedNanos = passClock?.next(receiveTimeNanos: receiveTimeNanos) ?? receiveTimeNanos
        defer { passClock?.count(made) }
        if streams[streamIndex].fromKafka {
            // A record captured from Kafka goes back to its topic (or --topic) and partition with its key,
            // timestamp and headers.
            let coordinates = coordinates()
            let source = streams[streamIndex].source
            let slot = try self.slot(TopicPartition(topic: router.topic(forKafkaSource: source),
                                                    partition: coordinates?.partition ?? Int32(streams[streamIndex].stream) ?? 0))
            let headers = (coordinates?.headers ?? []).map { KafkaMessageHeader(name: $0.name, value: $0.value) }
            let timestampMs = passClock != nil ? stampedNanos / 1_000_000 : coordinates?.timestampMs ?? receiveTimeNanos / 1_000_000
            if let key = coordinates?.key {
                key.withUnsafeBytes { key in
                    batch.append(slot: slot, key: key, value: payload, timestampMs: timestampMs, receiveTimeNanos: receiveTimeNanos,
                                 stream: streamIndex, streamHash: hash, sequence: sequence, tradeIndex: 0, headers: headers)
                }
            } else {
                batch.append(slot: slot, key: nil, value: payload, timestampMs: timestampMs, receiveTimeNanos: receiveTimeNanos,
                             stream: streamIndex, streamHash: hash, sequence: sequence, tradeIndex: 0, headers: headers)
            }
            made = 1
        } else {
            let timestampMs = stampedNanos / 1_000_000
            try encoder.encode(source: streams[streamIndex].source, stream: streams[streamIndex].stream, payload: payload,
                               receiveTimeNanos: stampedNanos, skip: skipHandler) { view in
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
                                 receiveTimeNanos: receiveTimeNanos, stream: streamIndex, streamHash: hash,
                                 sequence: sequence, tradeIndex: view.tradeIndex)
                }
                made += 1
            }
        }
        if let pipe {
            if batch.count >= KafkaSink.batchMessages || batch.bytes.count >= KafkaSink.batchBytes {
                batch.labels = labels
                batch.keys = streamKeys
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
            batch.keys = streamKeys
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
        // The batch's new (partition, stream) pairs are recorded first and the checkpoint written once for all
        // of them (two fsyncs each time), before the first of their messages is produced; the loop below then
        // finds every pair already recorded.
        let known = pairs.count
        for entry in batch.entries {
            _ = pair(slot: Int(entry.slot), stream: Int(entry.stream), key: batch.keys[Int(entry.stream)])
        }
        if pairs.count > known { try writeCheckpoint(complete: false) }
        try batch.bytes.withUnsafeBytes { base in
            for entry in batch.entries {
                let slot = Int(entry.slot)
                let key = entry.keyLength < 0 ? nil
                    : UnsafeRawBufferPointer(rebasing: base[entry.keyStart..<(entry.keyStart + Int(entry.keyLength))])
                let value = UnsafeRawBufferPointer(rebasing: base[entry.valueStart..<(entry.valueStart + entry.valueLength)])
                let stream = Int(entry.stream)
                let pair = self.pair(slot: slot, stream: stream, key: batch.keys[stream])
                let point = ReplayCheckpoint.Point(sequence: entry.sequence, trade: Int(entry.tradeIndex))
                if unresolvedPairs > 0 && !pairs[pair].resolved
                    && alreadyDelivered(pair, at: point, key: key, value: value, timestampMs: entry.timestampMs) { continue }
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
                slots[slot].pending.append(pair: pair, at: point)
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

    /// Counts the delivery reports served so far (bounding the pending lists) and writes the checkpoint when
    /// the interval has passed (called per batch unpaced, per record paced).
    private func checkpointIfDue() throws {
        for index in slots.indices { drain(index) }
        let now = Pacer.monotonicNanos()
        if now - lastCheckpointNanos < checkpointIntervalNanos { return }
        lastCheckpointNanos = now
        try writeCheckpoint(complete: false, background: true)
    }

    /// Turns the producer's count of slot `index`'s delivery reports into pair progress: reports of one
    /// partition arrive in produce order, so the first `n` pending messages are the acknowledged ones. Their
    /// offsets are exact when they fill consecutive offsets (no other producer in between); otherwise each
    /// pair touched remembers to recheck them from the batch's lowest possible offset.
    private func drain(_ index: Int) {
        let delivery = producer.delivery(tally: index)
        let count = delivery.delivered - slots[index].drained
        guard count > 0 else { return }
        drainRound += 1
        let first = slots[index].nextOffset
        let exact = delivery.lastOffset - first == Int64(count - 1)
        var lastPair = 0
        var lastPoint = ReplayCheckpoint.Point(sequence: 0, trade: 0)
        for position in 0..<count {
            let (pair, point) = slots[index].pending.removeFirst()
            pairs[pair].progress.delivered += 1
            pairs[pair].progress.acknowledged = point
            if exact {
                pairs[pair].progress.recheck = nil
                pairs[pair].progress.fromOffset = first + Int64(position) + 1
            } else if pairs[pair].recheckRound != drainRound {
                pairs[pair].recheckRound = drainRound
                pairs[pair].progress.recheck = point
                pairs[pair].progress.fromOffset = first
            }
            lastPair = pair
            lastPoint = point
        }
        slots[index].drained = delivery.delivered
        slots[index].lastDrainedOffset = delivery.lastOffset
        slots[index].last = .init(source: pairs[lastPair].progress.source, stream: pairs[lastPair].progress.stream, at: lastPoint,
                                  offset: delivery.lastOffset)
    }

    /// The checkpoint as the delivery reports served so far say. A resolved pair's unconfirmed messages lie at
    /// its slot's `nextOffset` or later (or from its recheck batch on); an unresolved pair keeps what it had.
    /// Writes the checkpoint: at once (waiting for any queued background write first), or, for the periodic
    /// one (`background`), through `checkpointWriter` so the calling thread does not wait for the disk.
    private func writeCheckpoint(complete: Bool, background: Bool = false) throws {
        for index in slots.indices { drain(index) }
        var streamsBySlot: [[ReplayCheckpoint.StreamProgress]] = Array(repeating: [], count: slots.count)
        for pair in pairs {
            var progress = pair.progress
            if complete {
                progress.recheck = nil
                progress.fromOffset = slots[pair.slot].nextOffset
            } else if pair.resolved && progress.recheck == nil {
                progress.fromOffset = slots[pair.slot].nextOffset
            }
            streamsBySlot[pair.slot].append(progress)
        }
        for index in checkpoint.partitions.indices {
            checkpoint.partitions[index].streams = streamsBySlot[index]
            checkpoint.partitions[index].last = slots[index].last
        }
        checkpoint.complete = complete
        if background {
            try checkpointWriter.submit(checkpoint)
        } else {
            try checkpointWriter.writeNow(checkpoint)
        }
    }

    /// Before anything is produced: per partition, the message Kafka holds where this replay's last one was
    /// acknowledged must be the one the source gives at that point (same key and value bytes, same timestamp
    /// unless the broker stamped it). Otherwise the topic was re-created or the log re-captured since the
    /// checkpoint, and its progress would skip messages that are not in Kafka.
    private func checkLastMessages(_ plan: ResumePlanner.Plan, sourceMessage: (ReplayCheckpoint.LastMessage) throws -> SourceLookup) throws {
        let path = store.path(for: checkpoint.identity)
        for (index, entry) in plan.checkpoint.partitions.enumerated() {
            guard let last = entry.last, let inKafka = plan.lastInKafka[index] else { continue }
            let name = "\(last.source)/\(last.stream) sequence \(last.at.sequence)" + (last.at.trade > 0 ? " trade \(last.at.trade)" : "")
            let found: SourceMessage
            switch try sourceMessage(last) {
            case .found(let message):
                found = message
            case .removedByRetention:
                diagnostics(ReplayNote(.warning, "resume: \(logPath) no longer holds \(name) (retention), so the last message "
                                       + "this replay delivered to \(entry.target) cannot be compared with it"))
                continue
            case .absent:
                let source = logPath.hasPrefix("kafka://") ? "the source topic \(logPath)" : "the log"
                throw ReplayError.unusable("checkpoint \(path): \(source) no longer holds \(name), which this replay delivered to "
                                           + "\(entry.target) at offset \(last.offset): was the source wiped or re-captured?")
            }
            let sameTime = inKafka.timestampType == .logAppendTime || found.timestampMs == inKafka.timestampMs
            guard found.key == inKafka.key, found.value == inKafka.value, sameTime else {
                throw ReplayError.unusable("checkpoint \(path): \(entry.target) offset \(last.offset) does not hold the message the source "
                                           + "gives for \(name), which this replay delivered there: was the topic deleted and re-created, "
                                           + "or the source re-captured at the same place? Move the checkpoint away to start afresh")
            }
        }
    }

    /// The log's message at a checkpoint's last point, as this replay encodes it; absent when the log has no
    /// such record (or trade).
    private func logMessage(_ last: ReplayCheckpoint.LastMessage) throws -> SourceLookup {
        var selection = ReadSelection()
        selection.sources = [last.source]
        selection.streams = [last.stream]
        selection.fromSequence = last.at.sequence
        selection.untilSequence = last.at.sequence
        selection.kinds = [.data]
        let reader = try SegmentLogReader(directory: logPath, selection: selection, diagnostics: { _ in })
        guard let record = try reader.next(), record.sequence == last.at.sequence else { return .absent }
        var found: SourceMessage?
        if record.source.hasPrefix("kafka:") {
            if last.at.trade == 0 {
                found = (record.kafka?.key, record.payload, record.kafka?.timestampMs ?? record.receiveTimeNanos / 1_000_000)
            }
        } else {
            try encoder.encode(source: record.source, stream: record.stream, payload: record.payload,
                               receiveTimeNanos: record.receiveTimeNanos) { view in
                if view.tradeIndex == last.at.trade {
                    found = (Array(view.key.utf8), Array(view.value), record.receiveTimeNanos / 1_000_000)
                }
            }
        }
        return found.map { .found($0) } ?? .absent
    }

    func finish() throws {
        if let pipe {
            if batch.count > 0 {
                batch.labels = labels
                batch.keys = streamKeys
                do { try pipe.send(batch) } catch { _ = joinProducing(); throw error }
            }
            if let error = joinProducing() { throw error }
        }
        // Every delivery report is awaited: librdkafka retries until message.timeout.ms, then reports failure.
        while !producer.flush(timeoutMs: 1000) {
            diagnostics(ReplayNote(.notice, "waiting for \(producer.outstanding) delivery reports"))
            try writeCheckpoint(complete: false)
        }
        if producer.failedCount > 0 { throw deliveryFailure() }
        try writeCheckpoint(complete: !stop.isCancelled)
        try checkAcknowledgedMessagesAreInKafka()
        if !stop.isCancelled {
            let unmet = pairs.filter { $0.progress.acknowledged != nil && !$0.reachedAcknowledged && !$0.resolved }
                .map { "\($0.progress.source)/\($0.progress.stream) in \(slots[$0.slot].target)" }
            if !unmet.isEmpty {
                diagnostics(ReplayNote(.warning, "warning: the checkpoint counts messages this selection did not send for "
                                       + "\(unmet.joined(separator: ", ")): was the first run's selection or log different?"))
            }
        }
        if !unknownSources.isEmpty {
            diagnostics(ReplayNote(.warning, "warning: records of unknown sources not replayed: \(unknownSources.sorted().joined(separator: ", "))"))
        }
        if let firstMalformed {
            diagnostics(ReplayNote(.warning, "warning: \(malformed) malformed frames not replayable as \(encoder.format.rawValue); first: \(firstMalformed)"))
        }
    }

    /// Every message the broker acknowledged this run is in its partition: each partition grew by at least as
    /// many messages as it acknowledged (others may produce there too; retention never lowers a high
    /// watermark). librdkafka 2.0.2 against its mock cluster, with Produce errors injected, reports messages
    /// delivered that the partition never got (docs/reliability.md); such a loss is an error, not exit 0.
    private func checkAcknowledgedMessagesAreInKafka() throws {
        var short: [String] = []
        for slot in slots where slot.drained > 0 {
            let (_, high) = try producer.watermarks(topic: slot.target.topic, partition: slot.target.partition)
            let grown = high - slot.runStart
            if grown < Int64(slot.drained) {
                short.append("\(slot.target): \(slot.drained) acknowledged, the partition grew by \(grown) (offsets \(slot.runStart)-\(high - 1))")
            }
        }
        guard !short.isEmpty else { return }
        throw ReplayError.failed("the broker acknowledged messages that are not in Kafka: " + short.joined(separator: "; ")
                                 + "; the checkpoint counts them as delivered, so a rerun with this --state-dir does not send them again")
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
        var partitions: [TopicPartition: Int] = [:]
        for slot in slots where slot.produced > 0 { partitions[slot.target] = slot.produced }
        return [
            "produced": .int(produced),
            "delivered": .int(producer.deliveredCount),
            "failed": .int(producer.failedCount),
            "first_error": producer.firstError.map { .string("\($0)") } ?? .null,
            "skipped_already_in_kafka": .int(skippedForResume),
            "frames_not_trades": .int(notTrade),
            "frames_malformed": .int(malformed),
            "per_partition": .partitions(partitions, key: "produced"),
            "checkpoint": .string(store.path(for: checkpoint.identity)),
        ]
    }
}

/// The messages produced to one partition and not yet counted from its delivery reports: their pair and
/// point, in produce order. A queue over one array, compacted now and then (no allocation per message).
struct PendingMessages {
    private var pairs: [Int32] = []
    private var points: [ReplayCheckpoint.Point] = []
    private var head = 0

    var count: Int { pairs.count - head }

    @inline(__always)
    mutating func append(pair: Int, at point: ReplayCheckpoint.Point) {
        pairs.append(Int32(truncatingIfNeeded: pair))
        points.append(point)
    }

    mutating func removeFirst() -> (pair: Int, point: ReplayCheckpoint.Point) {
        let first = (Int(pairs[head]), points[head])
        head += 1
        if head == pairs.count {
            pairs.removeAll(keepingCapacity: true)
            points.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 4096 && head * 2 >= pairs.count {
            pairs.removeFirst(head)
            points.removeFirst(head)
            head = 0
        }
        return first
    }
}
