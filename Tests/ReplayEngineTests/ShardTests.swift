import K2Core
import Kafka
import XCTest
@testable import Replay

/// `--shard i/n`: the shares of a source's partitions and streams are disjoint and together complete.
final class ShardTests: XCTestCase {
    func testShareSpellings() {
        XCTAssertEqual(ReplayShard("1/3"), ReplayShard(index: 1, count: 3))
        XCTAssertNil(ReplayShard("3/2"), "i must be below n")
        XCTAssertNil(ReplayShard("2/2"))
        XCTAssertNil(ReplayShard("-1/2"))
        XCTAssertNil(ReplayShard("0/0"))
        XCTAssertNil(ReplayShard("1"))
        XCTAssertNil(ReplayShard("1/2/3"))
        XCTAssertEqual(ReplayShard.whole.description, "0/1")
    }

    func testPartitionSharesAreDisjointAndComplete() {
        for count in 1...5 {
            var seen: [Int32: Int] = [:]
            for index in 0..<count {
                let source = topicSource(ReplayShard(index: index, count: count)!)
                let mine = source.partitions(of: 12)
                XCTAssertEqual(mine, mine.sorted())
                for partition in mine { seen[partition, default: 0] += 1 }
                // Partition p belongs to share p % n.
                XCTAssertTrue(mine.allSatisfy { Int($0) % count == index }, "\(index)/\(count): \(mine)")
            }
            XCTAssertEqual(Set(seen.keys), Set(0..<12), "n = \(count): complete")
            XCTAssertTrue(seen.values.allSatisfy { $0 == 1 }, "n = \(count): disjoint")
        }
    }

    func testPartitionSelectionNarrowsTheShare() {
        var source = topicSource(ReplayShard(index: 1, count: 2)!)
        source.partitionSelection = [0, 1, 2, 3, 7]
        XCTAssertEqual(source.partitions(of: 8), [1, 3, 7])
        source.partitionSelection = [9]
        XCTAssertEqual(source.partitions(of: 8), [], "a partition the topic lacks selects nothing")
    }

    func testStreamSharesAreDisjointCompleteAndStable() {
        let streams = (0..<200).map { ("binance", "sym\($0)@trade") } + (0..<50).map { ("kafka:t", String($0)) }
        for count in 1...4 {
            var counts = [Int](repeating: 0, count: count)
            for (source, stream) in streams {
                let owners = (0..<count).filter { ReplayShard(index: $0, count: count)!.contains(source: source, stream: stream) }
                XCTAssertEqual(owners.count, 1, "\(source)/\(stream) in \(count) shares: \(owners)")
                if let owner = owners.first { counts[owner] += 1 }
            }
            if count > 1 { XCTAssertTrue(counts.allSatisfy { $0 > 0 }, "every share gets streams: \(counts)") }
        }
        // The share of a stream is a function of its name alone (FNV-1a of source, NUL, stream).
        let share = ReplayShard(index: 0, count: 3)!
        XCTAssertEqual(share.contains(source: "binance", stream: "btcusdt@trade"), share.contains(source: "binance", stream: "btcusdt@trade"))
    }

    private func topicSource(_ shard: ReplayShard) -> KafkaTopicSource {
        KafkaTopicSource(config: KafkaConfig(), topic: "t", offsets: .everything, fromTimeMs: nil, untilTimeMs: nil,
                         shard: shard, stop: CancellationSignal())
    }
}
