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
        try frame.withUnsafeBufferPointer { try parse(TradeJSONScanner($0)) }
    }

    private static func parse(_ scanner: TradeJSONScanner) throws -> BinanceTradeEvent? {
        var scanner = scanner
        guard scanner.peek() == 0x7B else { return nil }   // arrays and scalars are not Binance events
        let start = scanner.position
        var top = Fields()
        var stream: String?
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
                    stream = try scanner.readString()
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
        guard fields.eventType == "trade" else { return nil }
        return try fields.event(stream: stream, at: fields.range.lowerBound)
    }

    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        for index in 0..<range.count where bytes[range.lowerBound + index] != literal.utf8Start[index] { return false }
        return true
    }

    /// The single-letter fields as they are found.
    private struct Fields {
        var eventType: String?, eventTimeMs: Int64?, symbol: String?, tradeId: Int64?, price: String?, quantity: String?
        var buyerOrderId: Int64?, sellerOrderId: Int64?, tradeTimeMs: Int64?, isBuyerMaker: Bool?, isBestMatch: Bool?
        var range: Range<Int> = 0..<0

        /// Reads the value of a known key; false (nothing consumed) for any other key.
        mutating func take(key: UInt8, _ scanner: inout TradeJSONScanner) throws -> Bool {
            switch key {
            case UInt8(ascii: "e"): eventType = try scanner.readString()
            case UInt8(ascii: "E"): eventTimeMs = try scanner.readInt64()
            case UInt8(ascii: "s"): symbol = try scanner.readString()
            case UInt8(ascii: "t"): tradeId = try scanner.readInt64()
            case UInt8(ascii: "p"): price = try scanner.readString()
            case UInt8(ascii: "q"): quantity = try scanner.readString()
            case UInt8(ascii: "b"): buyerOrderId = try scanner.readInt64()
            case UInt8(ascii: "a"): sellerOrderId = try scanner.readInt64()
            case UInt8(ascii: "T"): tradeTimeMs = try scanner.readInt64()
            case UInt8(ascii: "m"): isBuyerMaker = try scanner.readBool()
            case UInt8(ascii: "M"): isBestMatch = scanner.consumeNull() ? nil : try scanner.readBool()
            default: return false
            }
            return true
        }

        func event(stream: String?, at offset: Int) throws -> BinanceTradeEvent {
            func missing(_ name: String) -> ExchangeFrameError {
                ExchangeFrameError(offset: offset, message: "Binance trade event without \"\(name)\"")
            }
            guard let eventType else { throw missing("e") }
            guard let eventTimeMs else { throw missing("E") }
            guard let symbol else { throw missing("s") }
            guard let tradeId else { throw missing("t") }
            guard let price else { throw missing("p") }
            guard let quantity else { throw missing("q") }
            guard let tradeTimeMs else { throw missing("T") }
            guard let isBuyerMaker else { throw missing("m") }
            return BinanceTradeEvent(stream: stream, eventType: eventType, eventTimeMs: eventTimeMs, symbol: symbol,
                                     tradeId: tradeId, price: price, quantity: quantity, buyerOrderId: buyerOrderId,
                                     sellerOrderId: sellerOrderId, tradeTimeMs: tradeTimeMs, isBuyerMaker: isBuyerMaker,
                                     isBestMatch: isBestMatch, eventRange: range)
        }
    }
}
