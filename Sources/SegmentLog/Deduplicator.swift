/// Decides whether a data record repeats one seen shortly before (two overlapping captures of a stream).
///
/// Rules, first that applies: Kafka-sourced records by (topic, partition, offset); frames with exchange trade
/// ids (Binance `"t"`, Kraken v2 `trade_id`) by trade id per stream, a frame being a duplicate when all its ids
/// were seen; otherwise identical bytes in the same stream. Every rule only looks back `window` ns of receive
/// time, so memory is bounded by the records of one window. Control records are never duplicates, nor are
/// heartbeat frames (identical by nature).
struct Deduplicator {
    enum Rule: String, CaseIterable {
        case kafkaOffset = "kafka-offset", tradeId = "trade-id", identicalBytes = "identical-bytes"

        /// The rule's name as a JSON key (snake_case).
        var key: String { String(rawValue.map { $0 == "-" ? "_" : $0 }) }
    }

    let window: Int64
    private var kafka: [String: RecentKeys<KafkaPosition>] = [:]
    private var trades: [StreamKey: RecentKeys<Int64>] = [:]
    private var frames: [StreamKey: RecentKeys<FrameKey>] = [:]
    private var ids: [Int64] = []
    private static let heartbeat = Array("heartbeat".utf8)

    struct KafkaPosition: Hashable { var partition: Int32; var offset: Int64 }

    /// A frame's bytes, compared exactly (the hash only buckets).
    struct FrameKey: Hashable {
        var hash: UInt64
        var bytes: [UInt8]
        func hash(into h: inout Hasher) { h.combine(hash) }
        static func == (a: FrameKey, b: FrameKey) -> Bool { a.hash == b.hash && a.bytes == b.bytes }
    }

    init(window: Int64) { self.window = window }

    /// The rule that makes `record` a duplicate, or nil (then it is remembered).
    mutating func duplicate(_ record: LogRecord) -> Rule? {
        guard record.kind == .data else { return nil }
        let now = record.receiveTimeNanos
        if let k = record.kafka {
            let seen = kafka[record.source, default: RecentKeys()].insert(KafkaPosition(partition: k.partition, offset: k.offset), time: now, window: window)
            return seen ? .kafkaOffset : nil
        }
        TradeIdScanner.tradeIds(in: record.payload, into: &ids)
        if !ids.isEmpty {
            var allSeen = true
            for id in ids where !trades[record.streamKey, default: RecentKeys()].contains(id, time: now, window: window) { allSeen = false }
            if allSeen { return .tradeId }
            for id in ids { _ = trades[record.streamKey]!.insert(id, time: now, window: window) }
            return nil
        }
        if record.payload.count < 64, contains(record.payload, Deduplicator.heartbeat) { return nil }
        let hash = record.payload.withUnsafeBytes { p -> UInt64 in
            UInt64(CRC32C.checksum(p)) << 32 | UInt64(CRC32C.checksum(p, seed: 0x9E37_79B9))
        }
        let seen = frames[record.streamKey, default: RecentKeys()].insert(FrameKey(hash: hash, bytes: record.payload), time: now, window: window)
        return seen ? .identicalBytes : nil
    }

    private func contains(_ payload: [UInt8], _ needle: [UInt8]) -> Bool {
        guard payload.count >= needle.count else { return false }
        for i in 0...(payload.count - needle.count) where payload[i] == needle[0] {
            if Array(payload[i..<(i + needle.count)]) == needle { return true }
        }
        return false
    }
}

/// Keys seen within a sliding receive-time window (FIFO eviction).
struct RecentKeys<Key: Hashable> {
    private var times: [Key: Int64] = [:]
    private var order: [(time: Int64, key: Key)] = []
    private var head = 0

    private mutating func evict(before limit: Int64) {
        while head < order.count, order[head].time < limit {
            let entry = order[head]
            if times[entry.key] == entry.time { times[entry.key] = nil }
            head += 1
        }
        if head > 4096 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }

    mutating func contains(_ key: Key, time: Int64, window: Int64) -> Bool {
        evict(before: time &- window)
        return times[key] != nil
    }

    /// Returns true when `key` was already present (a duplicate); otherwise remembers it.
    mutating func insert(_ key: Key, time: Int64, window: Int64) -> Bool {
        evict(before: time &- window)
        if times[key] != nil { return true }
        times[key] = time
        order.append((time, key))
        return false
    }
}
