/// A Binance Spot `trade` event (docs/k2-platform.md §1), from a combined-stream frame
/// `{"stream":"btcusdt@trade","data":{...}}` or a bare event. Price and quantity keep the exact text.
public struct BinanceTradeEvent: Sendable, Equatable {
    public var stream: String?          // the combined-stream name, when wrapped
    public var eventType: String        // e
    public var eventTimeMs: Int64       // E
    public var symbol: String           // s
    public var tradeId: Int64           // t
    public var price: String            // p
    public var quantity: String         // q
    public var buyerOrderId: Int64?     // b (may be absent)
    public var sellerOrderId: Int64?    // a (may be absent)
    public var tradeTimeMs: Int64       // T
    public var isBuyerMaker: Bool       // m
    public var isBestMatch: Bool?       // M (may be absent)
    /// Byte range of the trade event object within the frame (the whole frame when bare): K2 v2's value.
    public var eventRange: Range<Int>

    /// Parses a frame; nil when it is valid JSON but not a trade event (a subscribe reply, another
    /// stream type). Throws with the byte offset when the frame is malformed or a trade field is missing.
    public static func parse(_ frame: [UInt8]) throws -> BinanceTradeEvent? {
        try frame.withUnsafeBufferPointer { try parse($0) }
    }

    /// `parse` of a frame in memory owned elsewhere (a segment reader's block buffer).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> BinanceTradeEvent? {
        let scanner = TradeJSONScanner(bytes)
        var top = Fields(), inner = Fields()
        guard let wrapped = try scan(scanner, top: &top, inner: &inner) else { return nil }
        let stream = try top.stream.map { try scanner.string($0) }
        return wrapped ? try inner.event(stream: stream, scanner) : try top.event(stream: stream, scanner)
    }

    /// What `scanTrade` found in a frame.
    public enum Scan {
        /// Valid JSON, not a trade event (`parse` returns nil).
        case notATrade
        /// A trade event whose strings are all plain (their bytes in the frame are their text): `spans` holds it.
        case trade
        /// A trade event with an escaped or non-ASCII string: use `parse` for its decoded text.
        case needsDecoding
    }

    /// Like `parse`, same checks and errors, but builds no strings: the event's string fields are byte
    /// ranges of `frame`, for encoders that copy them straight into a value (replay encodes every frame).
    /// The fields go to `spans` (valid when the result is `.trade`), so nothing is copied on the way out.
    public static func scanTrade(_ frame: UnsafeBufferPointer<UInt8>, into spans: inout BinanceTradeSpans) throws -> Scan {
        // Binance's own compact layout first (nearly every captured frame); anything else, the general scan.
        if BinanceCompactTradeScan.scan(frame, into: &spans) { return .trade }
        return try scanTradeInAnyLayout(frame, into: &spans)
    }

    /// `scanTrade` without the compact-layout shortcut: any key order, blanks, escapes, duplicate keys.
    static func scanTradeInAnyLayout(_ frame: UnsafeBufferPointer<UInt8>, into spans: inout BinanceTradeSpans) throws -> Scan {
        var top = Fields(), inner = Fields()
        guard let wrapped = try scan(TradeJSONScanner(frame), top: &top, inner: &inner) else { return .notATrade }
        if wrapped { try inner.spans(into: &spans) } else { try top.spans(into: &spans) }
        guard spans.eventType.plain, spans.symbol.plain, spans.price.plain, spans.quantity.plain, top.stream?.plain ?? true else {
            return .needsDecoding
        }
        return .trade
    }

    /// Reads the frame's top-level fields into `top` (with the `stream` name) and, when wrapped, the `data`
    /// object's into `inner`. Returns whether the event is `inner` (wrapped) or `top`; nil when not a trade.
    /// The fields are filled in place (no copies of these structs per frame).
    private static func scan(_ scanner: TradeJSONScanner, top: inout Fields, inner: inout Fields) throws -> Bool? {
        var scanner = scanner
        guard scanner.peek() == 0x7B else { return nil }   // arrays and scalars are not Binance events
        let start = scanner.position
        var wrapped = false
        scanner.position += 1
        if !scanner.consume(0x7D) {
            repeat {
                let key = try scanner.readStringRange().range
                try scanner.expect(0x3A)
                if key.count == 1, try top.take(key: scanner.bytes[key.lowerBound], &scanner) {
                    continue
                }
                if equals(scanner.bytes, key, "stream"), scanner.peek() == 0x22 {
                    top.stream = try scanner.readStringSpan()
                } else if equals(scanner.bytes, key, "data"), scanner.peek() == 0x7B {
                    if wrapped { inner = Fields() }   // a second "data": the last one counts
                    wrapped = true
                    let dataStart = scanner.position
                    scanner.position += 1
                    if !scanner.consume(0x7D) {
                        repeat {
                            let innerKey = try scanner.readStringRange().range
                            try scanner.expect(0x3A)
                            if innerKey.count == 1, try inner.take(key: scanner.bytes[innerKey.lowerBound], &scanner) { continue }
                            try scanner.skipValue()
                        } while try scanner.nextElement(closing: 0x7D)
                    }
                    inner.range = dataStart..<scanner.position
                } else {
                    try scanner.skipValue()
                }
            } while try scanner.nextElement(closing: 0x7D)
        }
        top.range = start..<scanner.position
        let isTrade = wrapped ? try inner.isTrade(scanner) : try top.isTrade(scanner)
        return isTrade ? wrapped : nil
    }

    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        for index in 0..<range.count where bytes[range.lowerBound + index] != literal.utf8Start[index] { return false }
        return true
    }

    /// The single-letter fields as they are found (strings as checked spans, decoded only when asked); `seen`
    /// has a bit per field present, so the values need no optionals.
    private struct Fields {
        static let e: UInt16 = 1, E: UInt16 = 2, s: UInt16 = 4, t: UInt16 = 8, p: UInt16 = 16, q: UInt16 = 32
        static let b: UInt16 = 64, a: UInt16 = 128, T: UInt16 = 256, m: UInt16 = 512

        var seen: UInt16 = 0
        var eventType = JSONStringSpan.empty, symbol = JSONStringSpan.empty
        var price = JSONStringSpan.empty, quantity = JSONStringSpan.empty
        var eventTimeMs: Int64 = 0, tradeId: Int64 = 0, buyerOrderId: Int64 = 0, sellerOrderId: Int64 = 0, tradeTimeMs: Int64 = 0
        var isBuyerMaker = false
        var isBestMatch: Bool?
        var range: Range<Int> = 0..<0
        /// The top level's `stream` name (combined-stream frames).
        var stream: JSONStringSpan?

        /// Reads the value of a known key; false (nothing consumed) for any other key.
        @inline(__always)
        mutating func take(key: UInt8, _ scanner: inout TradeJSONScanner) throws -> Bool {
            switch key {
            case UInt8(ascii: "e"): eventType = try scanner.readStringSpan(); seen |= Self.e
            case UInt8(ascii: "E"): eventTimeMs = try scanner.readInt64(); seen |= Self.E
            case UInt8(ascii: "s"): symbol = try scanner.readStringSpan(); seen |= Self.s
            case UInt8(ascii: "t"): tradeId = try scanner.readInt64(); seen |= Self.t
            case UInt8(ascii: "p"): price = try scanner.readStringSpan(); seen |= Self.p
            case UInt8(ascii: "q"): quantity = try scanner.readStringSpan(); seen |= Self.q
            case UInt8(ascii: "b"): buyerOrderId = try scanner.readInt64(); seen |= Self.b
            case UInt8(ascii: "a"): sellerOrderId = try scanner.readInt64(); seen |= Self.a
            case UInt8(ascii: "T"): tradeTimeMs = try scanner.readInt64(); seen |= Self.T
            case UInt8(ascii: "m"): isBuyerMaker = try scanner.readBool(); seen |= Self.m
            case UInt8(ascii: "M"): isBestMatch = scanner.consumeNull() ? nil : try scanner.readBool()
            default: return false
            }
            return true
        }

        func isTrade(_ scanner: TradeJSONScanner) throws -> Bool {
            guard seen & Self.e != 0 else { return false }
            if eventType.plain { return BinanceTradeEvent.equals(scanner.bytes, eventType.range, "trade") }
            return try scanner.string(eventType) == "trade"
        }

        /// The required fields into `spans`, or the error naming the first one missing.
        func spans(into spans: inout BinanceTradeSpans) throws {
            let required = Self.e | Self.E | Self.s | Self.t | Self.p | Self.q | Self.T | Self.m
            if seen & required != required {
                for (bit, name) in [(Self.e, "e"), (Self.E, "E"), (Self.s, "s"), (Self.t, "t"), (Self.p, "p"), (Self.q, "q"),
                                    (Self.T, "T"), (Self.m, "m")] where seen & bit == 0 {
                    throw ExchangeFrameError(offset: range.lowerBound, message: "Binance trade event without \"\(name)\"")
                }
            }
            spans.eventType = eventType
            spans.eventTimeMs = eventTimeMs
            spans.symbol = symbol
            spans.tradeId = tradeId
            spans.price = price
            spans.quantity = quantity
            spans.buyerOrderId = seen & Self.b != 0 ? buyerOrderId : nil
            spans.sellerOrderId = seen & Self.a != 0 ? sellerOrderId : nil
            spans.tradeTimeMs = tradeTimeMs
            spans.isBuyerMaker = isBuyerMaker
            spans.isBestMatch = isBestMatch
            spans.eventRange = range
        }

        func event(stream: String?, _ scanner: TradeJSONScanner) throws -> BinanceTradeEvent {
            var s = BinanceTradeSpans()
            try spans(into: &s)
            return BinanceTradeEvent(stream: stream, eventType: try scanner.string(s.eventType), eventTimeMs: s.eventTimeMs,
                                     symbol: try scanner.string(s.symbol), tradeId: s.tradeId, price: try scanner.string(s.price),
                                     quantity: try scanner.string(s.quantity), buyerOrderId: s.buyerOrderId,
                                     sellerOrderId: s.sellerOrderId, tradeTimeMs: s.tradeTimeMs, isBuyerMaker: s.isBuyerMaker,
                                     isBestMatch: s.isBestMatch, eventRange: s.eventRange)
        }
    }
}

/// A Binance trade event as `BinanceTradeEvent.scanTrade` finds it: numbers decoded, strings as byte
/// ranges of the frame (plain ASCII, no escapes, so the bytes are the text).
public struct BinanceTradeSpans: Sendable, Equatable {
    public var eventType: JSONStringSpan
    public var eventTimeMs: Int64
    public var symbol: JSONStringSpan
    public var tradeId: Int64
    public var price: JSONStringSpan
    public var quantity: JSONStringSpan
    public var buyerOrderId: Int64?
    public var sellerOrderId: Int64?
    public var tradeTimeMs: Int64
    public var isBuyerMaker: Bool
    public var isBestMatch: Bool?
    /// Byte range of the trade event object within the frame (the whole frame when bare).
    public var eventRange: Range<Int>

    /// Empty spans, to be filled by `BinanceTradeEvent.scanTrade(_:into:)`.
    public init() {
        eventType = .empty
        eventTimeMs = 0
        symbol = .empty
        tradeId = 0
        price = .empty
        quantity = .empty
        tradeTimeMs = 0
        isBuyerMaker = false
        eventRange = 0..<0
    }
}
