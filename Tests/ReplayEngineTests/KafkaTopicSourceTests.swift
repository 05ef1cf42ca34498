import K2Core
import Foundation
import Kafka
import SegmentLog
import XCTest
@testable import Replay

/// The Kafka topic source feeds any `ReplaySink` (here one that only collects), its ranges kept in a ledger
/// the run chooses; and a topic copied through the library's entry with a partition selection.
final class KafkaTopicSourceTests: XCTestCase {
    /// A sink outside the library's own: what a Swift user of `ReplaySink` writes.
    final class CollectingSink: ReplaySink {
        var readerStreams: [StreamKey] = []
        var records: [(stream: String, sequence: UInt64, offset: Int64, key: [UInt8]?, value: [UInt8])] = []
        var idles = 0
        func write(_ record: LogRecord) throws -> Int {
            records.append((record.stream, record.sequence, record.kafka?.offset ?? -1, record.kafka?.key, record.payload))
            return 1
        }
        func write(view: LogRecordView) throws -> Int {
            let key = readerStreams[view.streamIndex]
            records.append((key.stream, view.sequence, view.kafka?.offset ?? -1, view.kafka?.key, Array(view.payload)))
            return 1
        }
        func idle() throws { idles += 1 }
        func finish() throws {}
        var summary: [String: SummaryValue] { ["records": .int(records.count)] }
        var progressNote: String { "" }
    }

    final class MemoryLedger: KafkaSourceLedger {
        var ends: [String: Int64] = [:]
        var done: [String: Int64] = [:]
        func end(_ key: String, high: Int64) -> Int64 {
            if ends[key] == nil { ends[key] = high }
            return ends[key]!
        }
        func done(_ key: String) -> Int64? { done[key] }
        func pinStart(_ key: String, _ start: Int64) { done[key] = start - 1 }
    }

    private func filledCluster(partitions: Int32, perPartition: Int) throws -> (EmbeddedKafkaCluster, KafkaConfig) {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("orders", partitions: partitions, replicationFactor: 1)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        for partition in 0..<partitions {
            for index in 0..<perPartition {
                try producer.produce(topic: "orders", partition: partition, key: Array("k\(partition)".utf8),
                                     value: Array("p\(partition)-\(index)".utf8))
            }
        }
        XCTAssertTrue(producer.flush(timeoutMs: 10_000))
        return (cluster, config)
    }

    func testRecordsOfTheSelectedShareReachTheSinkAsPartitionStreams() throws {
        let (cluster, config) = try filledCluster(partitions: 6, perPartition: 10)
        defer { withExtendedLifetime(cluster) {} }
        var source = KafkaTopicSource(config: config, topic: "orders", offsets: try PartitionOffsetRanges(parsing: "4-"), fromTimeMs: nil, untilTimeMs: nil,
                                      shard: ReplayShard(index: 1, count: 2)!, stop: CancellationSignal())
        source.partitionSelection = [0, 1, 3, 4]
        source.carriesKeysAndHeaders = true
        let consumer = try KafkaConsumer(config: config, bulkRead: true)
        let ledger = MemoryLedger()
        let plan = try source.plan(consumer, ledger: ledger, destination: "nowhere")
        XCTAssertEqual(plan.ranges.map(\.partition), [1, 3], "share 1/2 of the selection")
        XCTAssertEqual(plan.records, 12)
        XCTAssertEqual(ledger.done, ["kafka:orders/1": 3, "kafka:orders/3": 3], "starts pinned before reading")
        let sink = CollectingSink()
        let progress = ProgressReporter(total: nil, enabled: false, diagnostics: { _ in })
        let read = try source.run(consumer, plan, into: sink, progress: progress)
        XCTAssertEqual(read, 12)
        XCTAssertEqual(sink.readerStreams.first?.source, "kafka:orders")
        for partition in ["1", "3"] {
            let mine = sink.records.filter { $0.stream == partition }
            XCTAssertEqual(mine.map(\.offset), Array(4..<10), "partition \(partition) in offset order")
            XCTAssertEqual(mine.map(\.sequence), (5...10).map(UInt64.init), "sequence = offset + 1")
            XCTAssertEqual(mine.map { String(decoding: $0.value, as: UTF8.self) }, (4..<10).map { "p\(partition)-\($0)" })
            XCTAssertTrue(mine.allSatisfy { $0.key == Array("k\(partition)".utf8) })
        }
    }

    func testAStoppedSourceReadsNothing() throws {
        let (cluster, config) = try filledCluster(partitions: 2, perPartition: 5)
        defer { withExtendedLifetime(cluster) {} }
        let stop = CancellationSignal()
        stop.cancel()
        let source = KafkaTopicSource(config: config, topic: "orders", offsets: .everything, fromTimeMs: nil, untilTimeMs: nil,
                                      shard: .whole, stop: stop)
        let consumer = try KafkaConsumer(config: config, bulkRead: true)
        let plan = try source.plan(consumer, ledger: MemoryLedger(), destination: "nowhere")
        XCTAssertEqual(plan.records, 10)
        let sink = CollectingSink()
        XCTAssertEqual(try source.run(consumer, plan, into: sink, progress: ProgressReporter(total: nil, enabled: false, diagnostics: { _ in })), 0)
        XCTAssertTrue(sink.records.isEmpty)
    }

    /// `--from kafka://… --to kafka --partitions 0,2`: only those partitions are copied, each to its own number.
    func testTopicCopyThroughTheEngineTakesOnlyTheSelectedPartitions() throws {
        let (source, _) = try filledCluster(partitions: 4, perPartition: 25)
        let target = try EmbeddedKafkaCluster(brokers: 1)
        try target.createTopic("orders", partitions: 4, replicationFactor: 1)
        let state = FileManager.default.temporaryDirectory.appendingPathComponent("copy-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: state) }
        var configuration = ReplayConfiguration(origin: .kafka(bootstrap: source.bootstrap, topic: "orders"))
        configuration.target = .kafka
        configuration.bootstrap = .servers(target.bootstrap)
        configuration.sourcePartitions = [0, 2]
        configuration.stateDirectory = state
        let report = try ReplayEngine(configuration: configuration, stop: CancellationSignal(), diagnostics: { _ in }).run()
        XCTAssertEqual(report.records, 50)
        XCTAssertEqual(try ReplayLogFixture.highWatermarks(target, topic: "orders", partitions: 4), [25, 0, 25, 0])
        // The rerun copies nothing more; another selection is another replay (its own checkpoint).
        let again = try ReplayEngine(configuration: configuration, stop: CancellationSignal(), diagnostics: { _ in }).run()
        XCTAssertEqual(again.details["produced"], .int(0))
        configuration.sourcePartitions = [1]
        let other = try ReplayEngine(configuration: configuration, stop: CancellationSignal(), diagnostics: { _ in }).run()
        XCTAssertEqual(other.details["produced"], .int(25))
        XCTAssertEqual(try ReplayLogFixture.highWatermarks(target, topic: "orders", partitions: 4), [25, 25, 25, 0])
        withExtendedLifetime(source) {}
    }
}
