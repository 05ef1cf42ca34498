import Avro
import Exchanges
import K2Core

/// `com.k2.marketdata.raw.KrakenRawTrade`, the v1 Bronze value of one Kraken trade.
public struct KrakenRawTrade: Sendable, Equatable {
    public var channelId: Int64
    public var price: String
    public var volume: String
    public var timestamp: String
    public var side: String
    public var orderType: String
    public var misc: String
    public var pair: String
    public var ingestionTimestamp: Int64

    public init(channelId: Int64, price: String, volume: String, timestamp: String, side: String, orderType: String,
                misc: String, pair: String, ingestionTimestamp: Int64) {
        self.channelId = channelId
        self.price = price
        self.volume = volume
        self.timestamp = timestamp
        self.side = side
        self.orderType = orderType
        self.misc = misc
        self.pair = pair
        self.ingestionTimestamp = ingestionTimestamp
    }

    public init(frame: KrakenV1TradeFrame, trade: KrakenV1Trade, ingestionTimestamp: Int64) {
        self.init(channelId: frame.channelId, price: trade.price, volume: trade.volume, timestamp: trade.time,
                  side: trade.side, orderType: trade.orderType, misc: trade.misc, pair: frame.pair,
                  ingestionTimestamp: ingestionTimestamp)
    }

    /// A v2 trade in K2's v1 shape: v2 has no channel id (0), side and order type become v1's letters
    /// (`b`/`s`, `l`/`m`), the RFC 3339 time becomes v1's "seconds.microseconds", misc is empty.
    public init(v2 trade: KrakenV2Trade, ingestionTimestamp: Int64) {
        self.init(channelId: 0, price: trade.price, volume: trade.quantity,
                  timestamp: KrakenRawTrade.v1Time(fromRFC3339: trade.timestamp) ?? trade.timestamp,
                  side: trade.side == "buy" ? "b" : trade.side == "sell" ? "s" : trade.side,
                  orderType: trade.orderType == "limit" ? "l" : trade.orderType == "market" ? "m" : trade.orderType,
                  misc: "", pair: trade.symbol, ingestionTimestamp: ingestionTimestamp)
    }

    /// The Avro binary body, fields in schema order.
    public func encode(to encoder: inout AvroBinaryEncoder) {
        encoder.writeLong(channelId)
        encoder.writeString(price)
        encoder.writeString(volume)
        encoder.writeString(timestamp)
        encoder.writeString(side)
        encoder.writeString(orderType)
        encoder.writeString(misc)
        encoder.writeString(pair)
        encoder.writeLong(ingestionTimestamp)
    }

    /// K2 v2 JSON value: one object per trade, keys in the contract's order.
    public func encodeJSON(to out: inout [UInt8]) {
        out.append(contentsOf: #"{"channel_id":"#.utf8)
        out.append(contentsOf: String(channelId).utf8)
        for (name, value) in [("pair", pair), ("price", price), ("volume", volume), ("timestamp", timestamp),
                              ("side", side), ("order_type", orderType), ("misc", misc)] {
            out.append(contentsOf: #",""#.utf8)
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: #"":"#.utf8)
            JSONText.appendString(value, to: &out)
        }
        out.append(contentsOf: #","ingestion_timestamp":"#.utf8)
        out.append(contentsOf: String(ingestionTimestamp).utf8)
        out.append(UInt8(ascii: "}"))
    }

    /// "2023-09-25T07:48:36.925533Z" → "1695628116.925533" (UTC only; nil for other shapes).
    static func v1Time(fromRFC3339 text: String) -> String? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b.last == 0x5A else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                let digit = b[index] &- 0x30
                guard digit < 10 else { return nil }
                value = value * 10 + Int64(digit)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var fraction = ""
        if b[19] == 0x2E {
            fraction = String(decoding: b[20..<(b.count - 1)], as: UTF8.self)
            guard !fraction.isEmpty, fraction.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        } else if b.count != 20 { return nil }
        let days = CivilDate(year: year, month: month, day: day).daysSinceEpoch
        let seconds = days * 86400 + hour * 3600 + minute * 60 + second
        return fraction.isEmpty ? String(seconds) : "\(seconds).\(fraction)"
    }
}
