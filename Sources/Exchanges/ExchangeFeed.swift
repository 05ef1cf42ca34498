/// The WebSocket feeds k2-capture records; decides how frames are classified and where trade ids are.
public enum ExchangeFeed: String, Sendable, CaseIterable {
    /// Binance combined stream: `{"stream":"btcusdt@trade","data":{... "t":<trade id> ...}}`.
    case binance
    /// Kraken v1: `[channelID,[[price,volume,time,side,orderType,misc],...],"trade","XBT/USD"]`; no trade ids.
    case krakenV1
    /// Kraken v2: `{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD",...,"trade_id":N},...]}`.
    case krakenV2

    /// The segment-log source name.
    public var sourceName: String {
        switch self {
        case .binance: return "binance"
        case .krakenV1: return "kraken"
        case .krakenV2: return "kraken-v2"
        }
    }
}

/// What a received frame is, as far as recording is concerned.
public enum FrameKind: Sendable, Equatable {
    /// Market data (trades, or any other channel's payload).
    case data
    /// A keep-alive the exchange sends on a quiet channel (Kraken `heartbeat`).
    case heartbeat
    /// The reply to our subscribe message (Binance `{"result":null,"id":1}`, Kraken `subscriptionStatus`,
    /// Kraken v2 `{"method":"subscribe",...}`).
    case subscriptionReply
    /// A status object that is neither data nor a reply (Kraken `systemStatus`, v2 `status`).
    case status
    /// Not valid JSON (RFC 8259, UTF-8).
    case malformed
}
