/// A Binance Spot `trade` event (CONTRACTS.md §1), from a combined-stream frame
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
        try frame.withUnsafeBufferPointer { bytes in
            let scanner = TradeJSONScanner(bytes)
            guard let (fields, stream) = try scan(scanner) else { return nil }
            return try fields.event(stream: stream.map { try scanner.string($0) }, scanner)
        }
    }

    /// What `scanTrade` found in a frame.
    public enum Scan {
        /// Valid JSON, not a trade event (`parse` returns nil).
        case notATrade
        /// A trade event whose strings are all plain: their bytes in the frame are their text.
        case trade(BinanceTradeSpans)
        /// A trade event with an escaped or non-ASCII string: use `parse` for its decoded text.
        case needsDecoding
    }

    /// Like `parse`, same checks and errors, but builds no strings: the event's string fields are byte
    /// ranges of `frame`, for encoders that copy them straight into a value (replay encodes every frame).
    public static func scanTrade(_ frame: UnsafeBufferPointer<UInt8>) throws -> Scan {
        guard let (fields, stream) = try scan(TradeJSONScanner(frame)) else { return .notATrade }
        let spans = try fields.spans()
        guard spans.eventType.plain, spans.symbol.plain, spans.price.plain, spans.quantity.plain, stream?.plain ?? true else {
            return .needsDecoding
        }
        return .trade(spans)
    }

    /// The trade's fields (of the `data` object when wrapped) and the `stream` name; nil when not a trade.
    private static func scan(_ scanner: TradeJSONScanner) throws -> (Fields, JSONStringSpan?)? {
        var scanner = scanner
        guard scanner.peek() == 0x7B else { return nil }   // arrays and scalars are not Binance events
        let start = scanner.position
        var top = Fields()
        var stream: JSONStringSpan?
        var inner: Fields?
        scanner.position += 1
        if !scanner.consume(0x7D) {
            repeat {
                let key = try scanner.readStringRange().range
                try scanner.expect(0x3A)
                if key.count == 1, try top.take(key: scanner.bytes[key.lowerBound], &scanner) {
                    continue
                }
                if equals(scanner.bytes, key, "stream"), scanner.peek() == 0x22 {
                    stream = try scanner.readStringSpan()
                } else if equals(scanner.bytes, key, "data"), scanner.peek() == 0x7B {
                    var fields = Fields()
                    let dataStart = scanner.position
                    scanner.position += 1
                    if !scanner.consume(0x7D) {
                        repeat {
                            let innerKey = try scanner.readStringRange().range
                            try scanner.expect(0x3A)
                            if innerKey.count == 1, try fields.take(key: scanner.bytes[innerKey.lowerBound], &scanner) { continue }
                            try scanner.skipValue()
                        } while try scanner.nextElement(closing: 0x7D)
                    }
                    fields.range = dataStart..<scanner.position
                    inner = fields
                } else {
                    try scanner.skipValue()
                }
            } while try scanner.nextElement(closing: 0x7D)
        }
        top.range = start..<scanner.position
        let fields = inner ?? top
        guard let eventType = fields.eventType, try isTrade(eventType, scanner) else { return nil }
        return (fields, stream)
    }

    private static func isTrade(_ span: JSONStringSpan, _ scanner: TradeJSONScanner) throws -> Bool {
        if span.plain { return equals(scanner.bytes, span.range, "trade") }
        return try scanner.string(span) == "trade"
    }

    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        for index in 0..<range.count where bytes[range.lowerBound + index] != literal.utf8Start[index] { return false }
        return true
    }

    /// The single-letter fields as they are found (strings as checked spans, decoded only when asked).
    private struct Fields {
        var eventType: JSONStringSpan?, eventTimeMs: Int64?, symbol: JSONStringSpan?, tradeId: Int64?
        var price: JSONStringSpan?, quantity: JSONStringSpan?
        var buyerOrderId: Int64?, sellerOrderId: Int64?, tradeTimeMs: Int64?, isBuyerMaker: Bool?, isBestMatch: Bool?
        var range: Range<Int> = 0..<0

        /// Reads the value of a known key; false (nothing consumed) for any other key.
        mutating func take(key: UInt8, _ scanner: inout TradeJSONScanner) throws -> Bool {
            switch key {
            case UInt8(ascii: "e"): eventType = try scanner.readStringSpan()
            case UInt8(ascii: "E"): eventTimeMs = try scanner.readInt64()
            case UInt8(ascii: "s"): symbol = try scanner.readStringSpan()
            case UInt8(ascii: "t"): tradeId = try scanner.readInt64()
            case UInt8(ascii: "p"): price = try scanner.readStringSpan()
            case UInt8(ascii: "q"): quantity = try scanner.readStringSpan()
            case UInt8(ascii: "b"): buyerOrderId = try scanner.readInt64()
            case UInt8(ascii: "a"): sellerOrderId = try scanner.readInt64()
            case UInt8(ascii: "T"): tradeTimeMs = try scanner.readInt64()
            case UInt8(ascii: "m"): isBuyerMaker = try scanner.readBool()
            case UInt8(ascii: "M"): isBestMatch = scanner.consumeNull() ? nil : try scanner.readBool()
            default: return false
            }
            return true
        }

        /// The required fields, or the error naming the first one missing.
        func spans() throws -> BinanceTradeSpans {
            func missing(_ name: String) -> ExchangeFrameError {
                ExchangeFrameError(offset: range.lowerBound, message: "Binance trade event without \"\(name)\"")
            }
            guard let eventType else { throw missing("e") }
            guard let eventTimeMs else { throw missing("E") }
            guard let symbol else { throw missing("s") }
            guard let tradeId else { throw missing("t") }
            guard let price else { throw missing("p") }
            guard let quantity else { throw missing("q") }
            guard let tradeTimeMs else { throw missing("T") }
            guard let isBuyerMaker else { throw missing("m") }
            return BinanceTradeSpans(eventType: eventType, eventTimeMs: eventTimeMs, symbol: symbol, tradeId: tradeId,
                                     price: price, quantity: quantity, buyerOrderId: buyerOrderId, sellerOrderId: sellerOrderId,
                                     tradeTimeMs: tradeTimeMs, isBuyerMaker: isBuyerMaker, isBestMatch: isBestMatch,
                                     eventRange: range)
        }

        func event(stream: String?, _ scanner: TradeJSONScanner) throws -> BinanceTradeEvent {
            let s = try spans()
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
}
