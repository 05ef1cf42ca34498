import Foundation
import Kafka
import XCTest
@testable import Replay

/// Start-up of a `--to kafka` run against librdkafka's in-process mock cluster: the first checkpoint, the
/// tails read on resume, topics merged in, and a re-created topic refused.
final class ResumePlannerTests: XCTestCase {
    private var cluster: EmbeddedKafkaCluster!
    private var producer: KafkaProducer!
    private var config = KafkaConfig()
    private var directory: URL!

    override func setUpWithError() throws {
        cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("t", partitions: 3, replicationFactor: 1)
        try cluster.createTopic("u", partitions: 2, replicationFactor: 1)
        config.set("bootstrap.servers", cluster.bootstrap)
        producer = try KafkaProducer(config: config)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("planner-\(UUID().uuidString)")
        // A run's lock makes the state directory before the planner writes there.
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        producer = nil
        cluster = nil
        try? FileManager.default.removeItem(at: directory)
    }

    private func produce(_ values: [String], partition: Int32, topic: String = "t") throws {
        for value in values { try producer.produce(topic: topic, partition: partition, key: Array("k".utf8), value: Array(value.utf8)) }
        XCTAssertTrue(producer.flush(timeoutMs: 10_000))
    }

    private func planner(_ notes: CollectedNotes = CollectedNotes()) -> ResumePlanner {
        ResumePlanner(store: CheckpointStore(directory: directory.path), identity: CheckpointStoreTests.identity(),
                      consumerConfig: config, diagnostics: notes.diagnostics)
    }

    func testFreshRunRecordsHighWatermarksBeforeProducing() throws {
        try produce(["a", "b", "c"], partition: 1)
        let plan = try planner().plan(targets: ["t": 3], producer: producer)
        XCTAssertFalse(plan.resumed)
        XCTAssertEqual(plan.highWatermarks, [0, 3, 0])
        XCTAssertEqual(plan.checkpoint.partitions.map(\.startOffset), [0, 3, 0])
        XCTAssertEqual(plan.checkpoint.partitions.map(\.target.description), ["t [0]", "t [1]", "t [2]"])
        XCTAssertTrue(plan.tails.allSatisfy { $0 == nil })
        // Written before anything is produced: a kill from here on finds it.
        let stored = try XCTUnwrap(try CheckpointStore(directory: directory.path).load(CheckpointStoreTests.identity()))
        XCTAssertEqual(stored.partitions.map(\.startOffset), [0, 3, 0])
    }

    func testResumeReadsEachPartitionFromItsLowestStreamOffsetAndMergesNewTopics() throws {
        let first = try planner().plan(targets: ["t": 3], producer: producer)
        // What a run acknowledged after its last checkpoint write: five messages in partition 1.
        try produce(["m0", "m1", "m2", "m3", "m4"], partition: 1)
        var checkpoint = first.checkpoint
        checkpoint.partitions[1].streams = [
            .init(source: "binance", stream: "a", delivered: 2, acknowledged: .init(sequence: 2, trade: 0), fromOffset: 2, recheck: nil),
            .init(source: "binance", stream: "b", delivered: 0, acknowledged: nil, fromOffset: 3, recheck: nil),
        ]
        checkpoint.partitions[1].last = .init(source: "binance", stream: "a", at: .init(sequence: 2, trade: 0), offset: 1)
        try CheckpointStore(directory: directory.path).write(checkpoint)

        let notes = CollectedNotes()
        let plan = try planner(notes).plan(targets: ["t": 3, "u": 2], producer: producer)
        XCTAssertTrue(plan.resumed)
        XCTAssertEqual(plan.highWatermarks, [0, 5, 0, 0, 0])
        // The tail from the lowest fromOffset (2) to the high watermark, by content.
        let tail = try XCTUnwrap(plan.tails[1])
        XCTAssertEqual(tail.offsets, [2, 3, 4])
        XCTAssertNil(plan.tails[0])
        XCTAssertEqual(plan.lastInKafka[1]?.value, Array("m1".utf8), "the last acknowledged message, read back")
        // Topic u was merged in and written before the run produces there.
        XCTAssertEqual(plan.checkpoint.partitions.map(\.target.description), ["t [0]", "t [1]", "t [2]", "u [0]", "u [1]"])
        let stored = try XCTUnwrap(try CheckpointStore(directory: directory.path).load(CheckpointStoreTests.identity()))
        XCTAssertEqual(stored.partitions.count, 5)
        XCTAssertTrue(notes.contains("resume: read 3 messages after the checkpoint in 1 partitions"), "\(notes.all)")
    }

    func testAChangedPartitionCountOrARecreatedTopicIsRefused() throws {
        var checkpoint = try planner().plan(targets: ["t": 3], producer: producer).checkpoint
        XCTAssertThrowsError(try planner().plan(targets: ["t": 4], producer: producer)) { error in
            XCTAssertTrue("\(error)".contains("t had 3 partitions, it has 4 now"), "\(error)")
        }
        // The checkpoint says offset 7 of t [2] holds our last message; the partition is empty (re-created).
        checkpoint.partitions[2].streams = [.init(source: "binance", stream: "a", delivered: 1, acknowledged: .init(sequence: 1, trade: 0),
                                                  fromOffset: 8, recheck: nil)]
        checkpoint.partitions[2].last = .init(source: "binance", stream: "a", at: .init(sequence: 1, trade: 0), offset: 7)
        try CheckpointStore(directory: directory.path).write(checkpoint)
        XCTAssertThrowsError(try planner().plan(targets: ["t": 3], producer: producer)) { error in
            XCTAssertTrue("\(error)".contains("t [2] ends at offset 0"), "\(error)")
            XCTAssertTrue("\(error)".contains("deleted and re-created"), "\(error)")
        }
    }
}
