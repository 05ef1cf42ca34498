/// The scan of a Binance trade frame in the exact layout Binance sends (compact, keys in its order):
///
///     {"stream":"btcusdt@trade","data":{"e":"trade","E":…,"s":"…","t":…,"p":"…","q":"…"[,"b":…,"a":…],"T":…,"m":…[,"M":…]}}
///
/// or the bare event `{"e":"trade",…}`. Replay scans every frame, and a frame in this layout is read by
/// comparing its fixed parts as literals, with no per-key dispatch. It accepts a frame only when the general
/// scan would find the same trade with plain strings, so it decides nothing on its own: any other byte
/// (a blank, another key order, an escape, a non-ASCII or control byte, a sign, a number over 18 digits,
/// `null`, trailing bytes) makes it give up, and the general scan reads the frame as before, with its errors.
enum BinanceCompactTradeScan {
    /// Fills `spans` and returns true when `frame` is a trade event in the compact layout with plain strings;
    /// false (spans partly written, to be overwritten) for any other frame.
    @inline(__always)
    static func scan(_ frame: UnsafeBufferPointer<UInt8>, into spans: inout BinanceTradeSpans) -> Bool {
        var cursor = Cursor(frame)
        let eventStart: Int
        let wrapped: Bool
        if cursor.literal("{\"stream\":\"") {
            guard cursor.plainString() != nil, cursor.literal(",\"data\":") else { return false }
            eventStart = cursor.position
            wrapped = true
        } else {
            eventStart = 0
            wrapped = false
        }
        guard cursor.literal("{\"e\":\"") else { return false }
        let typeStart = cursor.position
        guard cursor.literal("trade\",\"E\":") else { return false }
        spans.eventType = JSONStringSpan(range: typeStart..<typeStart + 5, escaped: false, ascii: true)
        guard let eventTime = cursor.integer(), cursor.literal(",\"s\":\""),
              let symbol = cursor.plainString(), cursor.literal(",\"t\":"),
              let tradeId = cursor.integer(), cursor.literal(",\"p\":\""),
              let price = cursor.plainString(), cursor.literal(",\"q\":\""),
              let quantity = cursor.plainString()
        else { return false }
        spans.eventTimeMs = eventTime
        spans.symbol = symbol
        spans.tradeId = tradeId
        spans.price = price
        spans.quantity = quantity
        // Older frames carry the buyer and seller order ids between "q" and "T".
        if cursor.literal(",\"b\":") {
            guard let buyer = cursor.integer(), cursor.literal(",\"a\":"), let seller = cursor.integer() else { return false }
            spans.buyerOrderId = buyer
            spans.sellerOrderId = seller
        } else {
            spans.buyerOrderId = nil
            spans.sellerOrderId = nil
        }
        guard cursor.literal(",\"T\":"), let tradeTime = cursor.integer(), cursor.literal(",\"m\":"),
              let buyerMaker = cursor.boolean()
        else { return false }
        spans.tradeTimeMs = tradeTime
        spans.isBuyerMaker = buyerMaker
        if cursor.literal(",\"M\":") {
            guard let bestMatch = cursor.boolean() else { return false }
            spans.isBestMatch = bestMatch
        } else {
            spans.isBestMatch = nil
        }
        guard cursor.literal("}") else { return false }
        spans.eventRange = eventStart..<cursor.position
        if wrapped { guard cursor.literal("}") else { return false } }
        return cursor.position == frame.count
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// Consumes `text` if the bytes at the cursor are exactly it.
        @inline(__always)
        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard bytes.count - position >= count else { return false }
            let start = text.utf8Start
            for index in 0..<count where bytes[position + index] != start[index] { return false }
            position += count
            return true
        }

        /// The contents of a string whose opening quote was consumed, up to and including its closing quote:
        /// printable ASCII only (no escape, control or non-ASCII byte), so its bytes are its text.
        @inline(__always)
        mutating func plainString() -> JSONStringSpan? {
            let start = position
            while position < bytes.count {
                let byte = bytes[position]
                if byte == 0x22 {
                    position += 1
                    return JSONStringSpan(range: start..<position - 1, escaped: false, ascii: true)
                }
                guard byte >= 0x20, byte < 0x7F, byte != 0x5C else { return nil }
                position += 1
            }
            return nil
        }

        /// 1 to 18 decimal digits (no sign): a value that cannot overflow, read as the general scan reads it.
        /// The literal after it (a comma or brace) is checked by the caller.
        @inline(__always)
        mutating func integer() -> Int64? {
            let start = position
            var value: Int64 = 0
            while position < bytes.count {
                let digit = bytes[position] &- 0x30
                guard digit < 10 else { break }
                value = value &* 10 &+ Int64(digit)
                position += 1
            }
            let digits = position - start
            return digits > 0 && digits <= 18 ? value : nil
        }

        @inline(__always)
        mutating func boolean() -> Bool? {
            if literal("true") { return true }
            if literal("false") { return false }
            return nil
        }
    }
}
