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

    /// `--offsets` with two ranges on one partition and none on another: only those offsets reach the sink, the
    /// offsets between the ranges are read past; a rerun after part of the work resumes inside the ranges.
    func testOffsetRangesWithGapsAndAResumedRun() throws {
        let (cluster, config) = try filledCluster(partitions: 3, perPartition: 30)
        defer { withExtendedLifetime(cluster) {} }
        let offsets = try PartitionOffsetRanges(parsing: "0:2-4,0:20+3,2:earliest-")
        let source = KafkaTopicSource(config: config, topic: "orders", offsets: offsets, fromTimeMs: nil, untilTimeMs: nil,
                                      shard: .whole, stop: CancellationSignal())
        let consumer = try KafkaConsumer(config: config, bulkRead: true)
        let plan = try source.plan(consumer, ledger: MemoryLedger(), destination: "nowhere")
        XCTAssertEqual(plan.ranges.map(\.partition), [0, 2], "partition 1 is named by no range")
        XCTAssertEqual(plan.records, 3 + 3 + 30)
        let sink = CollectingSink()
        XCTAssertEqual(try source.run(consumer, plan, into: sink, progress: ProgressReporter(total: nil, enabled: false, diagnostics: { _ in })), 36)
        XCTAssertEqual(sink.records.filter { $0.stream == "0" }.map(\.offset), [2, 3, 4, 20, 21, 22])
        XCTAssertEqual(sink.records.filter { $0.stream == "2" }.map(\.offset), Array(0..<30))

        // As if a run had written up to offset 3 of partition 0 and 9 of partition 2 before a kill.
        let ledger = MemoryLedger()
        ledger.done = ["kafka:orders/0": 3, "kafka:orders/2": 9]
        ledger.ends = ["kafka:orders/0": 23, "kafka:orders/2": 30]
        let rerun = try source.plan(KafkaConsumer(config: config, bulkRead: true), ledger: ledger, destination: "nowhere")
        XCTAssertEqual(rerun.selected[0], [OffsetRange(4, 4), OffsetRange(20, 22)])
        XCTAssertEqual(rerun.records, 4 + 20)
    }

    /// `--since` on librdkafka's mock cluster, which answers any look-up by time with the end offset: the source
    /// finds the first record at or after the time by reading the records, so the range is not silently empty.
    func testSinceOnTheMockClusterStartsAtTheFirstRecordAtOrAfterIt() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        defer { withExtendedLifetime(cluster) {} }
        try cluster.createTopic("orders", partitions: 1, replicationFactor: 1)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        let base: Int64 = 1_707_472_800_000
        for index in 0..<40 {
            let value = Array("v\(index)".utf8)
            try value.withUnsafeBytes { bytes in
                try producer.produce(topic: "orders", partition: 0, key: nil, value: bytes, timestampMs: base + Int64(index) * 1000)
            }
        }
        XCTAssertTrue(producer.flush(timeoutMs: 10_000))
        let source = KafkaTopicSource(config: config, topic: "orders", offsets: .everything, fromTimeMs: base + 12_500,
                                      untilTimeMs: base + 30_000, shard: .whole, stop: CancellationSignal())
        let consumer = try KafkaConsumer(config: config, bulkRead: true)
        let plan = try source.plan(consumer, ledger: MemoryLedger(), destination: "nowhere")
        let sink = CollectingSink()
        _ = try source.run(consumer, plan, into: sink, progress: ProgressReporter(total: nil, enabled: false, diagnostics: { _ in }))
        XCTAssertEqual(sink.records.map(\.offset), Array(13..<30), "from the first record at or after --since, before --until")
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
