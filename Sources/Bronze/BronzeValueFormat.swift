/// What a replayed Kafka record's value is.
public enum BronzeValueFormat: String, Sendable, CaseIterable {
    /// K2 v1: Confluent wire format (0x00, 4-byte big-endian schema id) + Avro body of BinanceRawTrade / KrakenRawTrade.
    case avroConfluent = "avro-confluent"
    /// K2 v2: JSON text (Binance: the trade event as received; Kraken: one object per trade).
    case json
    /// The captured frame exactly, one record per frame.
    case raw
}
