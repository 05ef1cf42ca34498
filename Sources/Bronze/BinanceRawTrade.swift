import Avro
import Exchanges

/// `com.k2.marketdata.raw.BinanceRawTrade`, the v1 Bronze value of a Binance trade.
public struct BinanceRawTrade: Sendable, Equatable {
    public var eventType: String
    public var eventTimeMs: Int64
    public var symbol: String
    public var tradeId: Int64
    public var price: String
    public var quantity: String
    public var tradeTimeMs: Int64
    public var isBuyerMaker: Bool
    public var isBestMatch: Bool?
    /// Microseconds since the epoch: the capture's receive time (so replays are deterministic).
    public var ingestionTimestamp: Int64

    public init(_ event: BinanceTradeEvent, ingestionTimestamp: Int64) {
        eventType = event.eventType
        eventTimeMs = event.eventTimeMs
        symbol = event.symbol
        tradeId = event.tradeId
        price = event.price
        quantity = event.quantity
        tradeTimeMs = event.tradeTimeMs
        isBuyerMaker = event.isBuyerMaker
        isBestMatch = event.isBestMatch
        self.ingestionTimestamp = ingestionTimestamp
    }

    /// The Avro binary body, fields in schema order.
    public func encode(to encoder: inout AvroBinaryEncoder) {
        encoder.writeString(eventType)
        encoder.writeLong(eventTimeMs)
        encoder.writeString(symbol)
        encoder.writeLong(tradeId)
        encoder.writeString(price)
        encoder.writeString(quantity)
        encoder.writeLong(tradeTimeMs)
        encoder.writeBoolean(isBuyerMaker)
        if let isBestMatch {
            encoder.writeUnionIndex(1)
            encoder.writeBoolean(isBestMatch)
        } else {
            encoder.writeUnionIndex(0)
        }
        encoder.writeLong(ingestionTimestamp)
    }
}
