/// One trade of a Kraken WebSocket v2 `trade` message. `price` and `quantity` keep the JSON number text exactly.
public struct KrakenV2Trade: Sendable, Equatable {
    public var symbol: String
    public var side: String          // "buy" / "sell"
    public var price: String
    public var quantity: String      // qty
    public var orderType: String     // ord_type: "limit" / "market"
    public var tradeId: Int64
    public var timestamp: String     // RFC 3339, e.g. "2023-09-25T07:48:36.925533Z"
}

/// `{"channel":"trade","type":"update"|"snapshot","data":[{trade}, ...]}` from `wss://ws.kraken.com/v2`.
public struct KrakenV2TradeMessage: Sendable, Equatable {
    public var type: String
    public var trades: [KrakenV2Trade]

    /// nil for messages of other channels (heartbeat, status) and method replies.
    public static func parse(_ frame: [UInt8]) throws -> KrakenV2TradeMessage? {
        try frame.withUnsafeBufferPointer { try parse($0) }
    }

    /// `parse` of a frame in memory owned elsewhere (a segment reader's block buffer).
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws -> KrakenV2TradeMessage? {
        var scanner = TradeJSONScanner(buffer)
        guard scanner.consume(0x7B) else { return nil }
        var channel: String?, type = ""
        var trades: [KrakenV2Trade] = []
        if scanner.consume(0x7D) { return nil }
        repeat {
            let key = try scanner.readString()
            try scanner.expect(0x3A)
            switch key {
            case "channel" where scanner.peek() == 0x22: channel = try scanner.readString()
            case "type" where scanner.peek() == 0x22: type = try scanner.readString()
            case "data" where scanner.peek() == 0x5B:
                scanner.position += 1
                if !scanner.consume(0x5D) {
                    repeat { trades.append(try parseTrade(&scanner)) } while try scanner.nextElement(closing: 0x5D)
                }
            default: try scanner.skipValue()
            }
        } while try scanner.nextElement(closing: 0x7D)
        guard channel == "trade" else { return nil }
        return KrakenV2TradeMessage(type: type, trades: trades)
    }

    private static func parseTrade(_ scanner: inout TradeJSONScanner) throws -> KrakenV2Trade {
        let start = scanner.position
        try scanner.expect(0x7B)
        var symbol: String?, side: String?, price: String?, quantity: String?, orderType: String?, timestamp: String?
        var tradeId: Int64?
        func numberText(_ scanner: inout TradeJSONScanner) throws -> String {
            let range = try scanner.readNumberRange()
            return String(decoding: UnsafeBufferPointer(rebasing: scanner.bytes[range]), as: UTF8.self)
        }
        if !scanner.consume(0x7D) {
            repeat {
                let key = try scanner.readString()
                try scanner.expect(0x3A)
                switch key {
                case "symbol": symbol = try scanner.readString()
                case "side": side = try scanner.readString()
                case "price": price = try numberText(&scanner)
                case "qty": quantity = try numberText(&scanner)
                case "ord_type": orderType = try scanner.readString()
                case "trade_id": tradeId = try scanner.readInt64()
                case "timestamp": timestamp = try scanner.readString()
                default: try scanner.skipValue()
                }
            } while try scanner.nextElement(closing: 0x7D)
        }
        guard let symbol, let side, let price, let quantity, let tradeId, let timestamp else {
            throw ExchangeFrameError(offset: start, message: "Kraken v2 trade without symbol, side, price, qty, trade_id or timestamp")
        }
        return KrakenV2Trade(symbol: symbol, side: side, price: price, quantity: quantity, orderType: orderType ?? "",
                             tradeId: tradeId, timestamp: timestamp)
    }
}
