import Exchanges

/// K2's v1 Binance value (Confluent prefix + `BinanceRawTrade` Avro body, fields in schema order) written
/// straight from a scanned frame: the plain string fields are copied byte for byte from the frame, so a
/// value costs one pass over its bytes and no allocation. Same bytes as `BinanceRawTrade.encode`.
enum BinanceAvroValue {
    /// An upper bound of the value's size: the prefix, the string bytes, and 10 bytes per varint.
    static func maxSize(_ trade: BinanceTradeSpans) -> Int {
        5 + trade.eventType.range.count + trade.symbol.range.count + trade.price.range.count + trade.quantity.range.count
            + 10 * 9 + 3
    }

    /// Writes the value at `out` (room for `maxSize`), returns its length.
    static func write(_ trade: BinanceTradeSpans, frame: UnsafeBufferPointer<UInt8>, prefix: UnsafeBufferPointer<UInt8>,
                      ingestionMicros: Int64, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var at = 0
        @inline(__always) func long(_ value: Int64) {
            var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
            while zigzag >= 0x80 {
                out[at] = UInt8(truncatingIfNeeded: zigzag) | 0x80
                at += 1
                zigzag >>= 7
            }
            out[at] = UInt8(zigzag)
            at += 1
        }
        @inline(__always) func string(_ span: JSONStringSpan) {
            long(Int64(span.range.count))
            if !span.range.isEmpty {
                (out + at).update(from: frame.baseAddress! + span.range.lowerBound, count: span.range.count)
                at += span.range.count
            }
        }
        (out + at).update(from: prefix.baseAddress!, count: prefix.count)
        at += prefix.count
        string(trade.eventType)
        long(trade.eventTimeMs)
        string(trade.symbol)
        long(trade.tradeId)
        string(trade.price)
        string(trade.quantity)
        long(trade.tradeTimeMs)
        out[at] = trade.isBuyerMaker ? 1 : 0
        at += 1
        if let best = trade.isBestMatch {
            long(1)   // union branch: boolean
            out[at] = best ? 1 : 0
            at += 1
        } else {
            long(0)   // union branch: null
        }
        long(ingestionMicros)
        return at
    }
}
