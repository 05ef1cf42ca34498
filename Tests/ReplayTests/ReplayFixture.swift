import Foundation
import Kafka
import SegmentLog
import TestSupport
import XCTest

/// A deterministic segment log with every shape replay handles: two Binance streams (wrapped trade events),
/// Kraken v1 frames carrying 1–3 trades plus heartbeats, a Kraken v2 message, control records (connect,
/// gap), a malformed frame, and a topic captured from Kafka (keys, headers, timestamps).
struct ReplayFixture {
    struct ExpectedMessage {
        var topic: String
        var key: [UInt8]
        var timestampMs: Int64
        /// Fields the Avro body must decode to (Kafka-sourced: the exact value instead).
        var fields: [String: AnyHashable]
        var rawValue: [UInt8]?
        var headers: [(String, [UInt8]?)] = []
        var partition: Int32?
    }

    static let baseNanos: Int64 = 1_707_472_800_000_000_000
    var expected: [ExpectedMessage] = []
    var dataRecords = 0
    var controlRecords = 0

    static func write(to directory: String, binanceTrades: Int = 150, krakenFrames: Int = 60) throws -> ReplayFixture {
        var fixture = ReplayFixture()
        let writer = try SegmentLogWriter(directory: directory, diagnostics: { _ in })
        var time = baseNanos
        func next() -> Int64 { time += 1_000_000 + 123_456; return time }   // 1.123456 ms apart
        try writer.append(LogRecord(kind: .connect, receiveTimeNanos: next(), source: "binance", stream: "btcusdt@trade",
                                    payload: Array(#"{"url":"ws://127.0.0.1/stream"}"#.utf8)))
        fixture.controlRecords += 1
        var tradeIds = ["BTCUSDT": Int64(1000), "ETHUSDT": Int64(5000)]
        var krakenFrame = 0
        for index in 0..<binanceTrades {
            for symbol in ["BTCUSDT", "ETHUSDT"] {
                let id = tradeIds[symbol]!
                tradeIds[symbol] = id + 1
                let price = "\(40000 + index).\(String(format: "%02d", index % 100))"
                let quantity = "0.\(String(format: "%03d", index % 1000 + 1))"
                let maker = index % 3 == 0
                let best = index % 5 == 0 ? "" : #","M":true"#
                let receive = next()
                let frame = #"{"stream":"\#(symbol.lowercased())@trade","data":{"e":"trade","E":\#(1_707_472_800_000 + Int64(index)),"s":"\#(symbol)","t":\#(id),"p":"\#(price)","q":"\#(quantity)","T":\#(1_707_472_799_990 + Int64(index)),"m":\#(maker)\#(best)}}"#
                try writer.append(LogRecord(receiveTimeNanos: receive, source: "binance", stream: symbol.lowercased() + "@trade",
                                            payload: Array(frame.utf8)))
                fixture.dataRecords += 1
                fixture.expected.append(ExpectedMessage(
                    topic: "market.crypto.trades.binance.raw", key: Array(symbol.utf8), timestampMs: receive / 1_000_000,
                    fields: ["event_type": "trade", "event_time_ms": 1_707_472_800_000 + Int64(index), "symbol": symbol,
                             "trade_id": id, "price": price, "quantity": quantity,
                             "trade_time_ms": 1_707_472_799_990 + Int64(index), "is_buyer_maker": maker,
                             "is_best_match": index % 5 == 0 ? AnyHashable(NSNull()) : AnyHashable(true),
                             "ingestion_timestamp": receive / 1000]))
            }
            if index == 40 {
                try writer.append(LogRecord(kind: .gap, receiveTimeNanos: next(), source: "binance", stream: "btcusdt@trade",
                                            payload: Array(#"{"expected":1041,"seen":1041}"#.utf8), gapExpected: 1041, gapSeen: 1041))
                fixture.controlRecords += 1
                try writer.append(LogRecord(flags: .malformed, receiveTimeNanos: next(), source: "binance", stream: "btcusdt@trade",
                                            payload: Array(#"{"stream":"btcusdt@trade","data":{"e":"tra"#.utf8)))
                fixture.dataRecords += 1
            }
            if index % 2 == 0 && krakenFrame < krakenFrames {
                let receive = next()
                if krakenFrame % 10 == 9 {
                    try writer.append(LogRecord(receiveTimeNanos: receive, source: "kraken", stream: "XBT/USD",
                                                payload: Array(#"{"event":"heartbeat"}"#.utf8)))
                } else {
                    let count = krakenFrame % 3 + 1
                    var trades: [String] = []
                    for trade in 0..<count {
                        let price = "\(5000 + krakenFrame).\(trade)0000"
                        let volume = "0.\(String(format: "%08d", krakenFrame * 10 + trade + 1))"
                        let time = "\(1_707_472_800 + krakenFrame).\(String(format: "%06d", trade * 1000 + 7))"
                        let side = trade % 2 == 0 ? "b" : "s"
                        trades.append(#"["\#(price)","\#(volume)","\#(time)","\#(side)","l",""]"#)
                        fixture.expected.append(ExpectedMessage(
                            topic: "market.crypto.trades.kraken.raw", key: Array("XBT/USD".utf8), timestampMs: receive / 1_000_000,
                            fields: ["channel_id": Int64(336), "price": price, "volume": volume, "timestamp": time, "side": side,
                                     "order_type": "l", "misc": "", "pair": "XBT/USD", "ingestion_timestamp": receive / 1000]))
                    }
                    let frame = "[336,[" + trades.joined(separator: ",") + #"],"trade","XBT/USD"]"#
                    try writer.append(LogRecord(receiveTimeNanos: receive, source: "kraken", stream: "XBT/USD", payload: Array(frame.utf8)))
                }
                fixture.dataRecords += 1
                krakenFrame += 1
            }
            if index % 10 == 0 {
                let partition = Int32(index / 10 % 2)
                let offset = Int64(index / 20)
                let receive = next()
                let value: [UInt8] = [0x00, 0xFF, UInt8(index & 0xFF)] + Array("order-\(index)".utf8)
                let headers = [KafkaHeader(name: "trace", value: Array("t\(index)".utf8)), KafkaHeader(name: "empty", value: nil)]
                let key = Array("acct-\(index % 4)".utf8)
                try writer.append(LogRecord(receiveTimeNanos: receive, source: "kafka:orders", stream: String(partition), payload: value,
                                            kafka: KafkaCoordinates(partition: partition, offset: offset, timestampMs: 1_600_000_000_000 + Int64(index),
                                                                    timestampType: 1, key: key, headers: headers)))
                fixture.dataRecords += 1
                fixture.expected.append(ExpectedMessage(topic: "orders", key: key, timestampMs: 1_600_000_000_000 + Int64(index),
                                                        fields: [:], rawValue: value,
                                                        headers: headers.map { ($0.name, $0.value) }, partition: partition))
            }
        }
        try writer.close()
        return fixture
    }
}

extension ReplayFixture {
    /// Walks the expected messages in log order beside what a client consumed: the n-th expected message of a
    /// target partition meets the n-th message consumed from it (`position` n), as a replay must leave them.
    /// A partition holding fewer messages than expected fails the test there and ends the walk.
    func walkInLogOrder(_ consumed: [ConsumedMessage], file: StaticString = #filePath, line: UInt = #line,
                        _ body: (_ want: ExpectedMessage, _ got: ConsumedMessage, _ position: Int, _ slot: String) -> Void) {
        var byPartition: [String: [ConsumedMessage]] = [:]
        for message in consumed { byPartition["\(message.topic)/\(message.partition)", default: []].append(message) }
        var cursor: [String: Int] = [:]
        for want in expected {
            let partition = want.partition ?? K2Partitioner.partition(key: want.key, partitionCount: 6)!
            let slot = "\(want.topic)/\(partition)"
            let position = cursor[slot, default: 0]
            cursor[slot] = position + 1
            guard let got = byPartition[slot], position < got.count else {
                XCTFail("missing message #\(position) in \(slot)", file: file, line: line)
                return
            }
            body(want, got[position], position, slot)
        }
    }
}
