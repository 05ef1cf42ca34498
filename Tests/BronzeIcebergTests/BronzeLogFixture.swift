import Foundation
import Kafka
import SegmentLog
import TestSupport

/// A segment log for the Iceberg replay tests: Binance trades on two symbols, Kraken frames of 1–3
/// trades (plus heartbeats), and a topic captured from Kafka (three partitions with real offsets).
struct BronzeLogFixture {
    static let baseNanos: Int64 = 1_707_472_800_000_000_000   // 2024-02-09T10:00:00Z
    static let kafkaTopic = "market.crypto.trades.binance.raw"

    /// Binance trade ids per symbol, in log order.
    var binanceTradeIds: [String: [Int64]] = [:]
    var krakenTrades = 0
    /// Kafka-captured records: (partition, offset) → (value, timestamp ms).
    var kafkaRecords: [[Int64]: (value: [UInt8], timestampMs: Int64)] = [:]
    /// Receive time of each exchange trade, µs, keyed by "symbol:tradeId" (Binance).
    var binanceReceiveMicros: [String: Int64] = [:]

    static func write(to directory: String, binanceTrades: Int = 120, krakenFrames: Int = 30, kafkaPerPartition: Int = 40) throws -> BronzeLogFixture {
        var fixture = BronzeLogFixture()
        let writer = try SegmentLogWriter(directory: directory, diagnostics: { _ in })
        var time = baseNanos
        func next() -> Int64 { time += 2_345_678; return time }   // 2.345678 ms apart: sub-ms digits matter
        var ids = ["BTCUSDT": Int64(7000), "ETHUSDT": Int64(9000)]
        var offsets: [Int32: Int64] = [0: 0, 1: 0, 2: 0]
        for index in 0..<binanceTrades {
            for symbol in ["BTCUSDT", "ETHUSDT"] {
                let id = ids[symbol]!
                ids[symbol] = id + 1
                let receive = next()
                let frame = #"{"stream":"\#(symbol.lowercased())@trade","data":{"e":"trade","E":\#(1_707_472_800_000 + Int64(index)),"s":"\#(symbol)","t":\#(id),"p":"\#(40000 + index).5","q":"0.0\#(index % 9 + 1)","T":\#(1_707_472_799_990 + Int64(index)),"m":\#(index % 2 == 0),"M":true}}"#
                try writer.append(LogRecord(receiveTimeNanos: receive, source: "binance", stream: symbol.lowercased() + "@trade",
                                            payload: Array(frame.utf8)))
                fixture.binanceTradeIds[symbol, default: []].append(id)
                fixture.binanceReceiveMicros["\(symbol):\(id)"] = receive / 1000
            }
            if index % 4 == 0 && index / 4 < krakenFrames {
                let k = index / 4
                let receive = next()
                if k % 7 == 6 {
                    try writer.append(LogRecord(receiveTimeNanos: receive, source: "kraken", stream: "XBT/USD",
                                                payload: Array(#"{"event":"heartbeat"}"#.utf8)))
                } else {
                    let trades = (0..<(k % 3 + 1)).map { t in
                        #"["\#(5000 + k).\#(t)0000","0.\#(String(format: "%08d", k * 10 + t + 1))","\#(1_707_472_800 + k).\#(String(format: "%06d", t * 1000 + 7))","\#(t % 2 == 0 ? "b" : "s")","l",""]"#
                    }
                    fixture.krakenTrades += trades.count
                    try writer.append(LogRecord(receiveTimeNanos: receive, source: "kraken", stream: "XBT/USD",
                                                payload: Array(("[336,[" + trades.joined(separator: ",") + #"],"trade","XBT/USD"]"#).utf8)))
                }
            }
            if index < kafkaPerPartition * 3 {
                let partition = Int32(index % 3)
                let offset = offsets[partition]!
                offsets[partition] = offset + 1
                let value: [UInt8] = [0x00, 0, 0, 0, 7] + Array("kafka-\(partition)-\(offset)".utf8) + [UInt8(index & 0xFF), 0xFF]
                let timestampMs = 1_707_472_800_000 + Int64(index) * 3
                try writer.append(LogRecord(receiveTimeNanos: next(), source: "kafka:" + kafkaTopic, stream: String(partition),
                                            payload: value,
                                            kafka: KafkaCoordinates(partition: partition, offset: offset, timestampMs: timestampMs,
                                                                    timestampType: 1, key: Array("BTCUSDT".utf8))))
                fixture.kafkaRecords[[Int64(partition), offset]] = (value, timestampMs)
            }
        }
        try writer.close()
        return fixture
    }
}

extension BronzeLogFixture {
    struct ProduceFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// An embedded cluster whose topic holds the fixture's Kafka-captured records at their partitions and
    /// offsets (`k2-replay --to kafka` of the log at `log`), returned once its high watermarks show them all:
    /// the mock cluster advances them a moment after the producer's acknowledgements.
    func kafkaCluster(log: String, brokers: Int = 1) throws -> EmbeddedKafkaCluster {
        let cluster = try EmbeddedKafkaCluster(brokers: brokers)
        let topic = Self.kafkaTopic
        try cluster.createTopic(topic, partitions: 3)
        let produced = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"),
                                             ["--from", log, "--to", "kafka", "--bootstrap", cluster.bootstrap,
                                              "--source", "kafka:" + topic, "--schema-id", "1", "--quiet"])
        guard produced.status == 0 else { throw ProduceFailure(description: "k2-replay --to kafka: \(produced.stderrText)") }
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let consumer = try KafkaConsumer(config: config)
        let deadline = Date().addingTimeInterval(30)
        var high = 0
        repeat {
            high = try (0..<3).reduce(0) { $0 + Int(try consumer.watermarks(topic: topic, partition: Int32($1)).high) }
            if high >= kafkaRecords.count { return cluster }
            Thread.sleep(forTimeInterval: 0.05)
        } while Date() < deadline
        throw ProduceFailure(description: "the topic's high watermarks add up to \(high), not \(kafkaRecords.count)")
    }
}
