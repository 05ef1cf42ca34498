import Kafka
import SegmentLog

/// Messages encoded by the reading thread and not yet handed to the producer: keys and values copied into one
/// byte buffer, everything else in one `Entry` per message. Reused (capacity kept) batch after batch: no
/// allocation per message. One thread owns a batch at a time (`BatchPipe` hands it over under its lock), so
/// the runtime exclusivity checks are off for its arrays: in the profile they cost more than the appends.
final class EncodedBatch {
    struct Entry {
        /// Index of the target partition in the sink's slots (and the producer's delivery tally).
        var slot: Int32
        /// -1: null key.
        var keyLength: Int32
        var keyStart: Int
        var valueLength: Int
        var timestampMs: Int64
        /// Capture receive time, for pacing.
        var receiveTimeNanos: Int64
        /// Provenance and error context: the stream (index into `labels`), its hash, sequence, trade index.
        var stream: Int32
        var tradeIndex: Int32
        var streamHash: UInt64
        var sequence: UInt64
        /// Index into `headerLists`, -1 for none (only records captured from Kafka carry headers).
        var headerIndex: Int32

        var valueStart: Int { keyStart + Int(Swift.max(0, keyLength)) }
    }

    @exclusivity(unchecked) private(set) var bytes: [UInt8] = []
    @exclusivity(unchecked) private(set) var entries: [Entry] = []
    @exclusivity(unchecked) private(set) var headerLists: [[KafkaMessageHeader]] = []
    /// `source/stream` per stream index (a snapshot of the sink's list: one reference per batch).
    var labels: [String] = []
    /// The stream per stream index (snapshot as `labels`), for the resume checkpoint's entries.
    var keys: [StreamKey] = []

    var count: Int { entries.count }

    init(capacity: Int, byteCapacity: Int) {
        bytes.reserveCapacity(byteCapacity)
        entries.reserveCapacity(capacity)
    }

    func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        headerLists.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    func append(slot: Int, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer, timestampMs: Int64, receiveTimeNanos: Int64,
                stream: Int, streamHash: UInt64, sequence: UInt64, tradeIndex: Int, headers: [KafkaMessageHeader]? = nil) {
        let keyStart = bytes.count
        if let key { bytes.append(contentsOf: key) }
        bytes.append(contentsOf: value)
        var headerIndex: Int32 = -1
        if let headers {
            headerIndex = Int32(headerLists.count)
            headerLists.append(headers)
        }
        entries.append(Entry(slot: Int32(slot), keyLength: key.map { Int32($0.count) } ?? -1, keyStart: keyStart,
                             valueLength: value.count, timestampMs: timestampMs, receiveTimeNanos: receiveTimeNanos,
                             stream: Int32(stream), tradeIndex: Int32(tradeIndex), streamHash: streamHash, sequence: sequence,
                             headerIndex: headerIndex))
    }
}
