import Foundation
import Kafka

/// The messages of one partition from the lowest offset where some stream's unconfirmed messages may be, up
/// to the high watermark seen at resume: this replay's messages acknowledged after the last checkpoint write
/// (or sent just before the kill), possibly mixed with other producers'. Kept compactly (one byte buffer, no
/// allocation per message). Each log stream matches its own next messages against it, in order, from its
/// own position (`KafkaSink`), so the streams may interleave differently than in the run that produced them;
/// a message found is marked used and cannot be found again by another stream.
struct PartitionTail {
    private var bytes: [UInt8] = []
    /// Per message: where its key starts in `bytes`, key length (-1 null), value length (-1 null), timestamp,
    /// whether the timestamp is the producer's (CreateTime: compared) or the broker's (LogAppendTime: not),
    /// offset, and whether a stream already matched it.
    private var starts: [Int] = []
    private var keyLengths: [Int] = []
    private var valueLengths: [Int] = []
    private var timestamps: [Int64] = []
    private var producerTimestamps: [Bool] = []
    private(set) var offsets: [Int64] = []
    private var used: [Bool] = []

    var count: Int { offsets.count }

    mutating func append(_ message: KafkaMessage) {
        starts.append(bytes.count)
        keyLengths.append(message.key?.count ?? -1)
        valueLengths.append(message.value?.count ?? -1)
        if let key = message.key { bytes.append(contentsOf: key) }
        if let value = message.value { bytes.append(contentsOf: value) }
        timestamps.append(message.timestampMs)
        producerTimestamps.append(message.timestampType != .logAppendTime)
        offsets.append(message.offset)
        used.append(false)
    }

    /// The index of the first message at `offset` or later (`count` when none).
    func index(atOrAfter offset: Int64) -> Int {
        var low = 0, high = offsets.count
        while low < high {
            let middle = (low + high) / 2
            if offsets[middle] < offset { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Looks for the message (key and value bytes equal, and the timestamp where the producer set it) among
    /// the unused ones from index `from` on. Found: it is marked used and its index returned.
    mutating func match(from: Int, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestampMs: Int64) -> Int? {
        let keyLength = key.map { $0.count } ?? -1
        let valueLength = value.map { $0.count } ?? -1
        var index = from
        while index < offsets.count {
            if !used[index] && keyLengths[index] == keyLength && valueLengths[index] == valueLength
                && (!producerTimestamps[index] || timestamps[index] == timestampMs) && equal(index, key, value) {
                used[index] = true
                return index
            }
            index += 1
        }
        return nil
    }

    private func equal(_ index: Int, _ key: UnsafeRawBufferPointer?, _ value: UnsafeRawBufferPointer?) -> Bool {
        bytes.withUnsafeBytes { stored in
            var at = starts[index]
            if let key, key.count > 0 {
                if memcmp(stored.baseAddress! + at, key.baseAddress!, key.count) != 0 { return false }
                at += key.count
            }
            if let value, value.count > 0 {
                if memcmp(stored.baseAddress! + at, value.baseAddress!, value.count) != 0 { return false }
            }
            return true
        }
    }
}
