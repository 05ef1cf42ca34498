import Foundation
import SegmentLog

/// Reads a segment log on a thread of its own, a few chunks of records ahead of the consumer, so reading
/// (block decompression, record decoding) runs beside the consumer's work instead of before it: the replay
/// into Iceberg is bound by one thread's per-record work, and the machine has a core to spare for this.
///
/// Records come out as views (`next(view:)`) in the order `SegmentLogReader` gives them, restricted to
/// `streams`, each view's stream index an index into `streams`; an error of the reader surfaces after every
/// record read before it, as it would without the thread.
final class PrefetchingLogReader: @unchecked Sendable {
    /// Records read ahead, stored flat so that filling and draining a chunk allocates nothing per record.
    /// One thread at a time owns a chunk (handed over under the lock), so its fields skip the runtime's
    /// exclusivity check, which cost more than the copying here.
    private final class Chunk {
        @exclusivity(unchecked) var count = 0
        @exclusivity(unchecked) var payload: [UInt8] = []
        @exclusivity(unchecked) var payloadEnds: [Int] = []
        @exclusivity(unchecked) var kinds: [RecordKind] = []
        @exclusivity(unchecked) var flags: [RecordFlags] = []
        @exclusivity(unchecked) var times: [Int64] = []
        @exclusivity(unchecked) var sequences: [UInt64] = []
        @exclusivity(unchecked) var slots: [Int32] = []
        @exclusivity(unchecked) var kafka: [KafkaCoordinates?] = []
        @exclusivity(unchecked) var gaps: [(expected: Int64?, seen: Int64?)] = []
        /// The last chunk: the log ended after its records, or `error` stopped the reading there.
        @exclusivity(unchecked) var end = false
        @exclusivity(unchecked) var error: Error?

        func reset() {
            count = 0
            payload.removeAll(keepingCapacity: true)
            payloadEnds.removeAll(keepingCapacity: true)
            kinds.removeAll(keepingCapacity: true)
            flags.removeAll(keepingCapacity: true)
            times.removeAll(keepingCapacity: true)
            sequences.removeAll(keepingCapacity: true)
            slots.removeAll(keepingCapacity: true)
            kafka.removeAll(keepingCapacity: true)
            gaps.removeAll(keepingCapacity: true)
            end = false
            error = nil
        }

        func add(_ record: LogRecordView, slot: Int) {
            payload.append(contentsOf: record.payload)
            payloadEnds.append(payload.count)
            kinds.append(record.kind)
            flags.append(record.flags)
            times.append(record.receiveTimeNanos)
            sequences.append(record.sequence)
            slots.append(Int32(slot))
            kafka.append(record.kafka)
            gaps.append((record.gapExpected, record.gapSeen))
            count += 1
        }
    }

    private let reader: SegmentLogReader
    private let streams: [StreamKey]
    private let chunkRecords: Int
    private let lock = NSCondition()
    // Guarded by `lock`.
    private var filled: [Chunk] = []
    private var empty: [Chunk]
    private var stopRequested = false
    private var started = false
    private let exited = DispatchSemaphore(value: 0)
    // The consumer's side.
    private var current: Chunk?
    private var index = 0

    /// - Parameters:
    ///   - streams: the streams wanted; records of other streams are skipped.
    ///   - chunkRecords, chunks: how far ahead the thread reads (records per chunk, chunks in flight).
    init(reader: SegmentLogReader, streams: [StreamKey], chunkRecords: Int = 2048, chunks: Int = 4) {
        self.reader = reader
        self.streams = streams
        self.chunkRecords = chunkRecords
        empty = (0..<chunks).map { _ in Chunk() }
    }

    deinit { stop() }

    /// The next record as a view of the chunk it was read into, valid only during `body`: nothing is copied.
    /// `view.streamIndex` indexes `streams`. False at the end of the log (without calling `body`).
    func next(view body: (LogRecordView) throws -> Void) throws -> Bool {
        if !started { start() }
        while true {
            if let chunk = current {
                if index < chunk.count {
                    let at = index
                    index += 1
                    let start = at == 0 ? 0 : chunk.payloadEnds[at - 1]
                    try chunk.payload.withUnsafeBytes { bytes in
                        try body(LogRecordView(
                            kind: chunk.kinds[at], flags: chunk.flags[at], receiveTimeNanos: chunk.times[at],
                            sequence: chunk.sequences[at], streamIndex: Int(chunk.slots[at]),
                            payload: UnsafeRawBufferPointer(rebasing: bytes[start..<chunk.payloadEnds[at]]),
                            kafka: chunk.kafka[at], gapExpected: chunk.gaps[at].expected, gapSeen: chunk.gaps[at].seen))
                    }
                    return true
                }
                if chunk.end {
                    if let error = chunk.error { throw error }
                    return false
                }
                lock.lock()
                empty.append(chunk)
                lock.broadcast()
                lock.unlock()
                current = nil
            }
            lock.lock()
            while filled.isEmpty { lock.wait() }
            current = filled.removeFirst()
            lock.unlock()
            index = 0
        }
    }

    /// Stops the reading thread (when the consumer stops early) and waits until it is gone.
    func stop() {
        lock.lock()
        let running = started && !stopRequested
        stopRequested = true
        lock.broadcast()
        lock.unlock()
        if running { exited.wait() }
    }

    private func start() {
        started = true
        let thread = Thread { [self] in
            readAhead()
            exited.signal()
        }
        thread.name = "k2-replay log reader"
        thread.start()
    }

    /// The thread: fills empty chunks until the log ends, reading fails, or `stop()`.
    private func readAhead() {
        // The slot in `streams` of each of the reader's streams (-1: not wanted).
        let slotOfStream = reader.streamKeys.map { key in streams.firstIndex(of: key) ?? -1 }
        while true {
            lock.lock()
            while empty.isEmpty && !stopRequested { lock.wait() }
            if stopRequested {
                lock.unlock()
                return
            }
            let chunk = empty.removeLast()
            lock.unlock()
            chunk.reset()
            do {
                while chunk.count < chunkRecords, try reader.next(view: { record in
                    let slot = slotOfStream[record.streamIndex]
                    if slot >= 0 { chunk.add(record, slot: slot) }
                }) {}
                chunk.end = chunk.count < chunkRecords
            } catch {
                chunk.error = error
                chunk.end = true
            }
            lock.lock()
            filled.append(chunk)
            lock.broadcast()
            lock.unlock()
            if chunk.end { return }
        }
    }
}
