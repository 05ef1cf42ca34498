/// Finds exchange trade ids in raw frames without parsing the JSON: a byte scan for `"t":<digits>` in Binance
/// trade events and `"trade_id":<digits>` in Kraken v2 trade messages. Used by de-duplication, where a frame
/// whose trade ids were all seen before is a duplicate capture of the same trades.
public enum TradeIdScanner {
    private static let binanceEvent = Array(#""e":"trade""#.utf8)
    private static let binanceId = Array(#""t":"#.utf8)
    private static let krakenChannel = Array(#""channel":"trade""#.utf8)
    private static let krakenId = Array(#""trade_id":"#.utf8)

    /// Replaces `ids` with the trade ids in `payload` (none when the frame is not a trade frame).
    public static func tradeIds(in payload: [UInt8], into ids: inout [Int64]) {
        ids.removeAll(keepingCapacity: true)
        payload.withUnsafeBytes { p in
            if contains(p, binanceEvent) {
                scanIds(p, key: binanceId, into: &ids, first: true)
            } else if contains(p, krakenChannel) {
                scanIds(p, key: krakenId, into: &ids, first: false)
            }
        }
    }

    private static func contains(_ p: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        find(p, needle, from: 0) != nil
    }

    private static func find(_ p: UnsafeRawBufferPointer, _ needle: [UInt8], from start: Int) -> Int? {
        let n = needle.count
        guard p.count >= n else { return nil }
        var i = start
        let first = needle[0]
        while i <= p.count - n {
            if p[i] == first {
                var j = 1
                while j < n && p[i + j] == needle[j] { j += 1 }
                if j == n { return i }
            }
            i += 1
        }
        return nil
    }

    private static func scanIds(_ p: UnsafeRawBufferPointer, key: [UInt8], into ids: inout [Int64], first: Bool) {
        var from = 0
        while let at = find(p, key, from: from) {
            var i = at + key.count
            while i < p.count && p[i] == 0x20 { i += 1 }
            var value: Int64 = 0
            var digits = 0
            while i < p.count, p[i] >= 0x30, p[i] <= 0x39, digits < 18 {
                value = value * 10 + Int64(p[i] - 0x30)
                digits += 1
                i += 1
            }
            if digits > 0 { ids.append(value) }
            if first && digits > 0 { return }
            from = i
        }
    }
}
