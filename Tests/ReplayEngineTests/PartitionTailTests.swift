import Kafka
import XCTest
@testable import Replay

/// The messages found after a checkpoint: looked up by content, each found once, from a stream's position.
final class PartitionTailTests: XCTestCase {
    private func message(_ offset: Int64, key: String?, value: String?, timestamp: Int64 = 1000,
                         type: KafkaTimestampType = .createTime) -> KafkaMessage {
        KafkaMessage(topic: "t", partition: 0, offset: offset, timestampMs: timestamp, timestampType: type,
                     key: key.map { Array($0.utf8) }, headers: [], value: value.map { Array($0.utf8) })
    }

    private func match(_ tail: inout PartitionTail, from: Int, key: String?, value: String?, timestamp: Int64 = 1000) -> Int? {
        let keyBytes = key.map { Array($0.utf8) }
        let valueBytes = value.map { Array($0.utf8) }
        func with(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> Int?) -> Int? {
            guard let bytes else { return body(nil) }
            return bytes.withUnsafeBytes { body($0) }
        }
        return with(keyBytes) { k in with(valueBytes) { v in tail.match(from: from, key: k, value: v, timestampMs: timestamp) } }
    }

    func testEqualMessagesAreFoundOnceEachInOrder() {
        var tail = PartitionTail()
        tail.append(message(10, key: "BTC", value: "a"))
        tail.append(message(11, key: "ETH", value: "b"))
        tail.append(message(12, key: "BTC", value: "a"))   // byte-identical to 10 (two equal trades)
        tail.append(message(14, key: nil, value: "c"))
        XCTAssertEqual(tail.count, 4)
        XCTAssertEqual(match(&tail, from: 0, key: "BTC", value: "a"), 0)
        XCTAssertEqual(match(&tail, from: 0, key: "BTC", value: "a"), 2, "the first one is used up")
        XCTAssertNil(match(&tail, from: 0, key: "BTC", value: "a"), "both are used up")
        XCTAssertEqual(match(&tail, from: 0, key: nil, value: "c"), 3)
        XCTAssertEqual(tail.offsets[3], 14)
    }

    func testKeyValueAndProducerTimestampMustAllAgree() {
        var tail = PartitionTail()
        tail.append(message(0, key: "BTC", value: "a", timestamp: 1000))
        tail.append(message(1, key: "BTC", value: "a", timestamp: 5, type: .logAppendTime))
        XCTAssertNil(match(&tail, from: 0, key: "BTC", value: "b"))
        XCTAssertNil(match(&tail, from: 0, key: "ETH", value: "a"))
        XCTAssertNil(match(&tail, from: 0, key: nil, value: "a"), "a null key is not an empty or other key")
        // Another CreateTime: not message 0; the broker's LogAppendTime of message 1 is not compared.
        XCTAssertEqual(match(&tail, from: 0, key: "BTC", value: "a", timestamp: 2000), 1)
        XCTAssertEqual(match(&tail, from: 0, key: "BTC", value: "a", timestamp: 1000), 0)
    }

    func testSearchStartsAtTheStreamsPosition() {
        var tail = PartitionTail()
        for offset in [20, 21, 25, 30] as [Int64] { tail.append(message(offset, key: "k", value: "v\(offset)")) }
        XCTAssertEqual(tail.index(atOrAfter: 0), 0)
        XCTAssertEqual(tail.index(atOrAfter: 21), 1)
        XCTAssertEqual(tail.index(atOrAfter: 22), 2)
        XCTAssertEqual(tail.index(atOrAfter: 31), 4)
        XCTAssertNil(match(&tail, from: tail.index(atOrAfter: 22), key: "k", value: "v20"), "before the position: not looked at")
        XCTAssertEqual(match(&tail, from: tail.index(atOrAfter: 22), key: "k", value: "v30"), 3)
    }
}
