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
        /// printable ASCII only (no escape, control or non-ASCII byte), so its bytes are its text. Eight bytes
        /// at a time while eight remain (`Lanes`), then byte by byte.
        @inline(__always)
        mutating func plainString() -> JSONStringSpan? {
            let start = position
            while bytes.count - position >= 8 {
                let stops = Lanes.stringStops(Lanes.load(bytes, position))
                if stops == 0 {
                    position += 8
                    continue
                }
                position += stops.trailingZeroBitCount >> 3
                guard bytes[position] == 0x22 else { return nil }
                position += 1
                return JSONStringSpan(range: start..<position - 1, escaped: false, ascii: true)
            }
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
        /// The literal after it (a comma or brace) is checked by the caller. Eight digits at a time while eight
        /// bytes remain (`Lanes`), then byte by byte.
        @inline(__always)
        mutating func integer() -> Int64? {
            let start = position
            var value: Int64 = 0
            while bytes.count - position >= 8 {
                let word = Lanes.load(bytes, position)
                let digits = Lanes.leadingDigits(word)
                if digits == 0 { break }
                value = value &* Lanes.powersOfTen[digits] &+ Lanes.value(word, digits: digits)
                position += digits
                if digits < 8 { return Self.checked(value, digits: position - start) }
            }
            while position < bytes.count {
                let digit = bytes[position] &- 0x30
                guard digit < 10 else { break }
                value = value &* 10 &+ Int64(digit)
                position += 1
            }
            return Self.checked(value, digits: position - start)
        }

        @inline(__always)
        private static func checked(_ value: Int64, digits: Int) -> Int64? {
            digits > 0 && digits <= 18 ? value : nil
        }

        @inline(__always)
        mutating func boolean() -> Bool? {
            if literal("true") { return true }
            if literal("false") { return false }
            return nil
        }
    }
}

/// Eight frame bytes at once in a `UInt64` (little-endian: the first byte in the lowest lane). Every test here
/// is exact per byte: no carry or borrow crosses from one lane into the next, so the lowest flagged lane is the
/// first such byte. (The byte tests follow "Bit Twiddling Hacks"; the digit sum is the known eight-digit SWAR parse.)
enum Lanes {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080
    static let lowSeven: UInt64 = 0x7F7F_7F7F_7F7F_7F7F

    static let powersOfTen: [Int64] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000]

    /// The 8 bytes at `position` (the caller checked that 8 remain).
    @inline(__always)
    static func load(_ bytes: UnsafeBufferPointer<UInt8>, _ position: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + position).loadUnaligned(as: UInt64.self))
    }

    /// High bit of each lane whose byte is above `n` (n ≤ 127).
    @inline(__always)
    static func above(_ word: UInt64, _ n: UInt64) -> UInt64 {
        (((word & lowSeven) &+ ones &* (127 - n)) | word) & highBits
    }

    /// High bit of each lane whose byte is below `n` (1 ≤ n ≤ 128).
    @inline(__always)
    static func below(_ word: UInt64, _ n: UInt64) -> UInt64 {
        ~(((word & lowSeven) &+ ones &* (128 - n)) | word) & highBits
    }

    /// High bit of each lane whose byte is `byte`.
    @inline(__always)
    static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        below(word ^ (ones &* UInt64(byte)), 1)
    }

    /// Lanes where a plain JSON string stops: a quote, a backslash, a control byte, DEL or a non-ASCII byte.
    @inline(__always)
    static func stringStops(_ word: UInt64) -> UInt64 {
        equal(word, 0x22) | equal(word, 0x5C) | below(word, 0x20) | above(word, 0x7E)
    }

    /// How many of the 8 bytes, from the first, are decimal digits.
    @inline(__always)
    static func leadingDigits(_ word: UInt64) -> Int {
        let others = above(word ^ (ones &* 0x30), 9)
        return others == 0 ? 8 : others.trailingZeroBitCount >> 3
    }

    /// The number the first `digits` (1...8) bytes of `word` spell, all decimal digits.
    @inline(__always)
    static func value(_ word: UInt64, digits: Int) -> Int64 {
        // Keep the digits' values and move them to the top lanes: the lanes below become leading zeros.
        var v = (word ^ (ones &* 0x30)) << UInt64(8 * (8 - digits))
        v = ((v & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) >> 8              // pairs of digits: 10 * a + b
        v = ((v & 0x00FF_00FF_00FF_00FF) &* 6_553_601) >> 16        // fours: 100 * ab + cd
        return Int64(((v & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) >> 32)   // 10_000 * abcd + efgh
    }
}
