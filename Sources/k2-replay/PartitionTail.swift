import Foundation
import Kafka

/// The messages of one partition after its checkpoint's last confirmed offset, up to the high watermark seen
/// at resume: this replay's messages acknowledged after the last checkpoint write (or sent just before the
/// kill), possibly mixed with other producers'. Kept compactly (one byte buffer, no allocation per message)
/// and matched greedily, in order, against what the log sends to the partition next.
struct PartitionTail {
    private var bytes: [UInt8] = []
    /// Per message: where its key starts in `bytes`, key length (-1 null), value length (-1 null), timestamp, offset.
    private var starts: [Int] = []
    private var keyLengths: [Int] = []
    private var valueLengths: [Int] = []
    private var timestamps: [Int64] = []
    private(set) var offsets: [Int64] = []
    /// The next message not yet matched or passed over.
    private var cursor = 0

    var count: Int { offsets.count }
    var isExhausted: Bool { cursor >= offsets.count }

    mutating func append(_ message: KafkaMessage) {
        starts.append(bytes.count)
        keyLengths.append(message.key?.count ?? -1)
        valueLengths.append(message.value?.count ?? -1)
        if let key = message.key { bytes.append(contentsOf: key) }
        if let value = message.value { bytes.append(contentsOf: value) }
        timestamps.append(message.timestampMs)
        offsets.append(message.offset)
    }

    /// Looks for the message (key, value bytes and timestamp equal) from the cursor on. Found: the cursor moves
    /// past it (the messages passed over belong to other producers) and its offset is returned. Not found: nil,
    /// and the tail is exhausted: this replay's messages in a partition are a prefix of what it sends there, so
    /// nothing later can match either.
    mutating func match(key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, timestampMs: Int64) -> Int64? {
        let keyLength = key.map { $0.count } ?? -1
        let valueLength = value.map { $0.count } ?? -1
        var index = cursor
        while index < offsets.count {
            if timestamps[index] == timestampMs && keyLengths[index] == keyLength && valueLengths[index] == valueLength
                && equal(index, key, value) {
                cursor = index + 1
                return offsets[index]
            }
            index += 1
        }
        cursor = offsets.count
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
