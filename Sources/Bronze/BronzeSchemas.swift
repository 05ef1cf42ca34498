/// K2's raw topics, Schema Registry subjects and v1 Avro record schemas (docs/k2-platform.md §2), kept as the
/// exact texts registered with the registry. Field order is the binary layout: do not reorder.
public enum BronzeExchange: String, Sendable, CaseIterable {
    case binance, kraken

    /// `market.crypto.trades.{exchange}.raw`
    public var topic: String { "market.crypto.trades.\(rawValue).raw" }
    /// Topic-name strategy: `{topic}-value`.
    public var subject: String { topic + "-value" }
    public var avroSchema: String {
        switch self {
        case .binance: return BronzeSchemas.binanceRawTrade
        case .kraken: return BronzeSchemas.krakenRawTrade
        }
    }

    /// The exchange of a segment-log source name: "binance", "kraken" (WebSocket v1), "kraken-v2".
    public init?(source: String) {
        switch source {
        case "binance": self = .binance
        case "kraken", "kraken-v2": self = .kraken
        default: return nil
        }
    }
}

public enum BronzeSchemas {
    public static let binanceRawTrade = """
    {"type":"record","name":"BinanceRawTrade","namespace":"com.k2.marketdata.raw","fields":[\
    {"name":"event_type","type":"string"},\
    {"name":"event_time_ms","type":"long"},\
    {"name":"symbol","type":"string"},\
    {"name":"trade_id","type":"long"},\
    {"name":"price","type":"string"},\
    {"name":"quantity","type":"string"},\
    {"name":"trade_time_ms","type":"long"},\
    {"name":"is_buyer_maker","type":"boolean"},\
    {"name":"is_best_match","type":["null","boolean"],"default":null},\
    {"name":"ingestion_timestamp","type":"long"}]}
    """

    public static let krakenRawTrade = """
    {"type":"record","name":"KrakenRawTrade","namespace":"com.k2.marketdata.raw","fields":[\
    {"name":"channel_id","type":"long"},\
    {"name":"price","type":"string"},\
    {"name":"volume","type":"string"},\
    {"name":"timestamp","type":"string"},\
    {"name":"side","type":"string"},\
    {"name":"order_type","type":"string"},\
    {"name":"misc","type":"string"},\
    {"name":"pair","type":"string"},\
    {"name":"ingestion_timestamp","type":"long"}]}
    """
}
