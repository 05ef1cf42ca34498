import K2Core
import Foundation
import Kafka
import XCTest
@testable import Replay

/// What the Kafka sink counts as delivered and pending, and what resume skips because of it.
final class PendingDeliveryTests: XCTestCase {
    func testPendingMessagesComeOutInProduceOrderAcrossCompactions() {
        var pending = PendingMessages()
        XCTAssertEqual(pending.count, 0)
        for index in 0..<10_000 { pending.append(pair: index % 7, at: .init(sequence: UInt64(index), trade: index % 3)) }
        XCTAssertEqual(pending.count, 10_000)
        for index in 0..<9_000 {
            let (pair, point) = pending.removeFirst()
            XCTAssertEqual(pair, index % 7)
            XCTAssertEqual(point, .init(sequence: UInt64(index), trade: index % 3))
            if pair != index % 7 { return }
        }
        XCTAssertEqual(pending.count, 1_000)
        pending.append(pair: 99, at: .init(sequence: 99_999, trade: 0))
        for _ in 0..<1_000 { _ = pending.removeFirst() }
        XCTAssertEqual(pending.removeFirst().pair, 99)
        XCTAssertEqual(pending.count, 0)
    }

    /// A whole run: the checkpoint counts every message delivered, per partition and stream, and a rerun skips
    /// them all. Then a checkpoint that lost a stream's progress (acknowledged after its last write): the rerun
    /// finds that stream's messages in the partition by content and skips them too.
    func testDeliveredMessagesAreCountedAndSkippedOnResume() throws {
        let fixture = try ReplayLogFixture.write(trades: 300)
        defer { fixture.remove() }
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        let state = fixture.directory + "-state"
        defer { try? FileManager.default.removeItem(atPath: state) }
        let topic = "market.crypto.trades.binance.raw"
        try cluster.createTopic(topic, partitions: 4, replicationFactor: 1)
        let configuration = fixture.configuration(cluster: cluster, stateDirectory: state)

        let first = try ReplayEngine(configuration: configuration, stop: CancellationSignal(), diagnostics: { _ in }).run()
        XCTAssertEqual(first.details["produced"], .int(300))
        XCTAssertEqual(first.details["delivered"], .int(300))
        let highs = try ReplayLogFixture.highWatermarks(cluster, topic: topic, partitions: 4)
        XCTAssertEqual(highs.reduce(0, +), 300)

        let store = CheckpointStore(directory: state)
        let file = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: state).first { $0.hasSuffix(".json") })
        var checkpoint = try JSONDecoder().decode(ReplayCheckpoint.self, from: Data(contentsOf: URL(fileURLWithPath: state + "/" + file)))
        XCTAssertTrue(checkpoint.complete)
        for (index, partition) in checkpoint.partitions.enumerated() {
            XCTAssertEqual(partition.streams.reduce(0) { $0 + $1.delivered }, Int(highs[index] - partition.startOffset), "\(partition.target)")
            for stream in partition.streams {
                XCTAssertEqual(stream.fromOffset, highs[index], "nothing of \(stream.stream) is pending beyond the high watermark")
                XCTAssertNil(stream.recheck)
            }
        }
        // Each stream's acknowledged point is its last record (one symbol per stream, one partition per symbol).
        let lastSequence = checkpoint.partitions.flatMap(\.streams).map { $0.acknowledged?.sequence ?? 0 }
        XCTAssertEqual(lastSequence.count, 3)

        let again = try ReplayEngine(configuration: configuration, stop: CancellationSignal(), diagnostics: { _ in }).run()
        XCTAssertEqual(again.details["produced"], .int(0))
        XCTAssertEqual(again.details["skipped_already_in_kafka"], .int(300))
        XCTAssertEqual(try ReplayLogFixture.highWatermarks(cluster, topic: topic, partitions: 4), highs)

        // Forget one stream's progress, as if its messages were acknowledged after the last checkpoint write.
        let slot = try XCTUnwrap(checkpoint.partitions.firstIndex { !$0.streams.isEmpty })
        let tailLength = highs[slot] - checkpoint.partitions[slot].startOffset
        checkpoint.complete = false
        checkpoint.partitions[slot].streams[0].delivered = 0
        checkpoint.partitions[slot].streams[0].acknowledged = nil
        checkpoint.partitions[slot].streams[0].fromOffset = checkpoint.partitions[slot].startOffset
        checkpoint.partitions[slot].last = nil
        try store.write(checkpoint)
        let notes = CollectedNotes()
        let resumed = try ReplayEngine(configuration: configuration, stop: CancellationSignal(), diagnostics: notes.diagnostics).run()
        XCTAssertEqual(resumed.details["produced"], .int(0), "\(notes.all)")
        XCTAssertEqual(resumed.details["skipped_already_in_kafka"], .int(300))
        XCTAssertTrue(notes.contains("resume: read \(tailLength) messages after the checkpoint in 1 partitions"), "\(notes.all)")
        XCTAssertEqual(try ReplayLogFixture.highWatermarks(cluster, topic: topic, partitions: 4), highs)
    }
}
