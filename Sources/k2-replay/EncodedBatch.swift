import Kafka

/// Messages encoded by the reading thread and not yet handed to the producer: keys and values copied into one
/// byte buffer, the rest in parallel arrays. Reused (capacity kept) batch after batch: no allocation per message.
/// One thread owns a batch at a time (`BatchPipe` hands it over under its lock), so the runtime exclusivity
/// checks are off for its arrays: in the profile they cost more than the appends themselves.
final class EncodedBatch {
    @exclusivity(unchecked) private(set) var bytes: [UInt8] = []
    @exclusivity(unchecked) private(set) var slots: [Int] = []
    @exclusivity(unchecked) private(set) var keyStarts: [Int] = []
    /// -1: null key.
    @exclusivity(unchecked) private(set) var keyLengths: [Int] = []
    @exclusivity(unchecked) private(set) var valueLengths: [Int] = []
    @exclusivity(unchecked) private(set) var timestamps: [Int64] = []
    /// Capture receive time, for pacing.
    @exclusivity(unchecked) private(set) var receiveTimes: [Int64] = []
    /// Provenance and error context: stream (index into `labels`), its hash, sequence, trade index.
    @exclusivity(unchecked) private(set) var streams: [Int] = []
    @exclusivity(unchecked) private(set) var streamHashes: [UInt64] = []
    @exclusivity(unchecked) private(set) var sequences: [UInt64] = []
    @exclusivity(unchecked) private(set) var tradeIndexes: [Int] = []
    /// Index into `headerLists`, -1 for none (only records captured from Kafka carry headers).
    @exclusivity(unchecked) private(set) var headerIndexes: [Int] = []
    @exclusivity(unchecked) private(set) var headerLists: [[KafkaMessageHeader]] = []
    /// `source/stream` per stream index (a snapshot of the sink's list: one reference per batch).
    var labels: [String] = []

    var count: Int { slots.count }

    init(capacity: Int, byteCapacity: Int) {
        bytes.reserveCapacity(byteCapacity)
        slots.reserveCapacity(capacity)
        keyStarts.reserveCapacity(capacity)
        keyLengths.reserveCapacity(capacity)
        valueLengths.reserveCapacity(capacity)
        timestamps.reserveCapacity(capacity)
        receiveTimes.reserveCapacity(capacity)
        streams.reserveCapacity(capacity)
        streamHashes.reserveCapacity(capacity)
        sequences.reserveCapacity(capacity)
        tradeIndexes.reserveCapacity(capacity)
        headerIndexes.reserveCapacity(capacity)
    }

    func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
        keyStarts.removeAll(keepingCapacity: true)
        keyLengths.removeAll(keepingCapacity: true)
        valueLengths.removeAll(keepingCapacity: true)
        timestamps.removeAll(keepingCapacity: true)
        receiveTimes.removeAll(keepingCapacity: true)
        streams.removeAll(keepingCapacity: true)
        streamHashes.removeAll(keepingCapacity: true)
        sequences.removeAll(keepingCapacity: true)
        tradeIndexes.removeAll(keepingCapacity: true)
        headerIndexes.removeAll(keepingCapacity: true)
        headerLists.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    func append(slot: Int, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer, timestampMs: Int64, receiveTimeNanos: Int64,
                stream: Int, streamHash: UInt64, sequence: UInt64, tradeIndex: Int, headers: [KafkaMessageHeader]? = nil) {
        slots.append(slot)
        keyStarts.append(bytes.count)
        if let key {
            keyLengths.append(key.count)
            bytes.append(contentsOf: key)
        } else {
            keyLengths.append(-1)
        }
        valueLengths.append(value.count)
        bytes.append(contentsOf: value)
        timestamps.append(timestampMs)
        receiveTimes.append(receiveTimeNanos)
        streams.append(stream)
        streamHashes.append(streamHash)
        sequences.append(sequence)
        tradeIndexes.append(tradeIndex)
        if let headers {
            headerIndexes.append(headerLists.count)
            headerLists.append(headers)
        } else {
            headerIndexes.append(-1)
        }
    }

    /// Message `index`'s key (nil for a null key) and value, valid inside `body`.
    @inline(__always)
    func withMessage<R>(_ index: Int, _ body: (UnsafeRawBufferPointer?, UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { base in
            let keyStart = keyStarts[index]
            let keyLength = keyLengths[index]
            let valueStart = keyStart + max(0, keyLength)
            let key = keyLength < 0 ? nil : UnsafeRawBufferPointer(rebasing: base[keyStart..<(keyStart + keyLength)])
            return try body(key, UnsafeRawBufferPointer(rebasing: base[valueStart..<(valueStart + valueLengths[index])]))
        }
    }
}
