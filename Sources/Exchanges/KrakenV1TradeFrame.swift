/// One trade of a Kraken WebSocket v1 trade frame: `[price, volume, time, side, orderType, misc]`, all text
/// exactly as sent (`time` is "seconds.microseconds", side `b`/`s`, orderType `l`/`m`).
public struct KrakenV1Trade: Sendable, Equatable {
    public var price: String
    public var volume: String
    public var time: String
    public var side: String
    public var orderType: String
    public var misc: String

    public init(price: String, volume: String, time: String, side: String, orderType: String, misc: String) {
        self.price = price
        self.volume = volume
        self.time = time
        self.side = side
        self.orderType = orderType
        self.misc = misc
    }
}

/// A Kraken v1 trade frame `[channelID, [[trade], ...], "trade", "XBT/USD"]` (docs/k2-platform.md §1).
/// One frame can carry several trades; each becomes its own Kafka record.
public struct KrakenV1TradeFrame: Sendable, Equatable {
    public var channelId: Int64
    public var trades: [KrakenV1Trade]
    public var channelName: String
    public var pair: String

    /// Parses a frame; nil for object frames (heartbeat, systemStatus, subscriptionStatus) and for arrays
    /// of other channels. Throws with the byte offset when a trade array is malformed.
    public static func parse(_ frame: [UInt8]) throws -> KrakenV1TradeFrame? {
        try frame.withUnsafeBufferPointer { try parse($0) }
    }

    /// `parse` of a frame in memory owned elsewhere (a segment reader's block buffer).
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws -> KrakenV1TradeFrame? {
        var scanner = TradeJSONScanner(buffer)
        guard scanner.consume(0x5B) else { return nil }
        let channelId = try scanner.readInt64()
        try scanner.expect(0x2C)
        guard scanner.peek() == 0x5B else { return nil }   // book and other channels carry objects here
        let tradesStart = scanner.position
        // Read the channel name and pair first: only "trade" arrays are decoded.
        var probe = scanner
        try probe.skipValue()
        try probe.expect(0x2C)
        let channelName = try probe.readString()
        try probe.expect(0x2C)
        let pair = try probe.readString()
        guard channelName == "trade" else { return nil }
        scanner.position = tradesStart
        var trades: [KrakenV1Trade] = []
        try scanner.expect(0x5B)
        if !scanner.consume(0x5D) {
            repeat {
                let tradeStart = scanner.position
                try scanner.expect(0x5B)
                var fields: [String] = []
                fields.reserveCapacity(6)
                if !scanner.consume(0x5D) {
                    repeat {
                        if scanner.peek() == 0x22 { fields.append(try scanner.readString()) } else { try scanner.skipValue() }
                    } while try scanner.nextElement(closing: 0x5D)
                }
                guard fields.count >= 6 else {
                    throw ExchangeFrameError(offset: tradeStart, message: "Kraken trade with \(fields.count) text fields, expected 6")
                }
                trades.append(KrakenV1Trade(price: fields[0], volume: fields[1], time: fields[2], side: fields[3],
                                            orderType: fields[4], misc: fields[5]))
            } while try scanner.nextElement(closing: 0x5D)
        }
        return KrakenV1TradeFrame(channelId: channelId, trades: trades, channelName: channelName, pair: pair)
    }
}
