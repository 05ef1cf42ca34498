import Foundation
import Kafka
import TestSupport
import XCTest

/// `k2-replay --from kafka://HOST:PORT/TOPIC --to kafka`: a topic range copied into another cluster, each
/// message to its own partition number with its key, value, timestamp and headers. Read back by kafka-python
/// and kcat from both clusters; resumed after SIGKILLs with each message there once.
final class KafkaCopyTests: XCTestCase {
    private let base: Int64 = 1_700_000_000_000

    /// Two mock clusters (the target's topics made up front: librdkafka's mock cluster does not create topics
    /// on request).
    private func makeClusters(targetTopics: [(String, Int32)] = [("orders", 6)]) throws -> (source: EmbeddedKafkaCluster, target: EmbeddedKafkaCluster) {
        let source = try EmbeddedKafkaCluster(brokers: 3)
        try source.createTopic("orders", partitions: 4)
        let target = try EmbeddedKafkaCluster(brokers: 3)
        for (topic, partitions) in targetTopics { try target.createTopic(topic, partitions: partitions) }
        return (source, target)
    }

    /// Messages `start..<start+count` into the source's four partitions (index % 4): keys of seven kinds,
    /// timestamps rising with the index, headers on every third one (a null header value among them).
    private func fill(_ cluster: EmbeddedKafkaCluster, _ range: Range<Int>) throws {
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        for index in range {
            let headers = index % 3 == 0
                ? [KafkaMessageHeader(name: "trace", value: Array("t-\(index)".utf8)), KafkaMessageHeader(name: "empty", value: nil)] : []
            try producer.produce(topic: "orders", partition: Int32(index % 4), key: Array("k\(index % 7)".utf8),
                                 value: Array("order-\(index)".utf8), timestampMs: base + Int64(index), headers: headers)
        }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))
        XCTAssertEqual(producer.failedCount, 0)
    }

    /// Per partition, in offset order: key, value, timestamp and headers as kafka-python reads them.
    private func contents(_ cluster: EmbeddedKafkaCluster, _ topic: String) throws -> [Int32: [String]] {
        var out: [Int32: [String]] = [:]
        for message in try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: [topic]) {
            let headers = message.headers.map { "\($0.0)=\($0.1.map(KafkaReadBack.hex) ?? "null")" }.joined(separator: ",")
            out[message.partition, default: []].append("\(message.content) ts=\(message.timestampMs) h=\(headers)")
        }
        return out
    }

    /// Same partitions, each with the same messages in the same order; a failure names the first difference.
    private func assertSame(_ got: [Int32: [String]], _ want: [Int32: [String]], _ what: String,
                            file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(got.keys.sorted(), want.keys.sorted(), "\(what): partitions", file: file, line: line)
        for (partition, messages) in want {
            let have = got[partition] ?? []
            XCTAssertEqual(have.count, messages.count, "\(what): messages in partition \(partition)", file: file, line: line)
            if let index = (0..<min(have.count, messages.count)).first(where: { have[$0] != messages[$0] }) {
                XCTFail("\(what): partition \(partition) #\(index): \(have[index]) instead of \(messages[index])", file: file, line: line)
            }
        }
    }

    private func arguments(_ clusters: (source: EmbeddedKafkaCluster, target: EmbeddedKafkaCluster), _ state: URL,
                           _ extra: [String] = []) -> [String] {
        ["--from", "kafka://\(clusters.source.bootstrap.split(separator: ",")[0])/orders", "--to", "kafka",
         "--bootstrap", clusters.target.bootstrap, "--state-dir", state.path] + extra
    }

    private func totalMessages(_ cluster: EmbeddedKafkaCluster, _ topic: String, partitions: Int32) throws -> Int64 {
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let consumer = try KafkaConsumer(config: config)
        var total: Int64 = 0
        for partition in 0..<partitions { total += try consumer.watermarks(topic: topic, partition: partition).high }
        return total
    }

    func testRangeIsCopiedToTheSamePartitionsAndItsEndIsFixedByTheFirstRun() throws {
        let directory = try TestEnvironment.temporaryDirectory("kafka-copy")
        defer { try? FileManager.default.removeItem(at: directory) }
        let clusters = try makeClusters(targetTopics: [("orders", 6), ("late", 4), ("early", 4), ("sharded", 4)])
        try fill(clusters.source, 0..<2000)
        let state = directory.appendingPathComponent("state")

        let first = try ReplayProcess.run(arguments(clusters, state, ["--json", "--quiet"]))
        XCTAssertEqual(first.status, 0, first.stderrText)
        let summary = try JSONSerialization.jsonObject(with: first.stdout) as! [String: Any]
        XCTAssertEqual(summary["produced"] as? Int, 2000)
        XCTAssertEqual(summary["delivered"] as? Int, 2000)
        let source = try contents(clusters.source, "orders")
        XCTAssertEqual(source.values.map(\.count).reduce(0, +), 2000)
        assertSame(try contents(clusters.target, "orders"), source, "copy")
        // kcat's view (partition, offset, key, timestamp, value length, headers) of both: the target was empty,
        // so even the offsets agree.
        let kcatSource = try KafkaReadBack.kcat(bootstrap: clusters.source.bootstrap, topic: "orders").sorted()
        XCTAssertEqual(kcatSource.count, 2000)
        XCTAssertEqual(try KafkaReadBack.kcat(bootstrap: clusters.target.bootstrap, topic: "orders").sorted(), kcatSource)
        XCTAssertTrue(kcatSource.contains { $0.contains("trace=t-3") }, "\(kcatSource.prefix(3))")

        // The source grows; the same replay again reads up to the end its first run fixed: nothing new.
        try fill(clusters.source, 2000..<2500)
        let rerun = try ReplayProcess.run(arguments(clusters, state, ["--json", "--quiet"]))
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        let again = try JSONSerialization.jsonObject(with: rerun.stdout) as! [String: Any]
        XCTAssertEqual(again["produced"] as? Int, 0, rerun.stdoutText)
        assertSame(try contents(clusters.target, "orders"), source, "after the rerun")

        // Another replay: from offset 375 of each partition into another topic (--topic), up to the end offsets
        // seen now (625 per partition). (--since is not tried: librdkafka 2.0.2's mock cluster answers a
        // look-up by time with the end offset.)
        let late = try ReplayProcess.run(arguments(clusters, state, ["--topic", "late", "--from-offset", "375", "--quiet"]))
        XCTAssertEqual(late.status, 0, late.stderrText)
        let expected = try contents(clusters.source, "orders").mapValues { Array($0.dropFirst(375)) }
        XCTAssertEqual(expected.values.map(\.count).reduce(0, +), 1000)
        assertSame(try contents(clusters.target, "late"), expected, "--from-offset 375 --topic late")
        // And up to a time: each partition stops at its first message stamped 1,000 ms after the base or later.
        let early = try ReplayProcess.run(arguments(clusters, state, ["--topic", "early", "--until", String(base + 1000), "--quiet"]))
        XCTAssertEqual(early.status, 0, early.stderrText)
        let before = try contents(clusters.source, "orders").mapValues { Array($0.prefix(250)) }
        assertSame(try contents(clusters.target, "early"), before, "--until base+1000 --topic early")
        // Two shares of the partitions (--shard 0/2 and 1/2, two replays) make the whole topic once.
        for shard in ["0/2", "1/2"] {
            let part = try ReplayProcess.run(arguments(clusters, state, ["--topic", "sharded", "--shard", shard, "--quiet"]))
            XCTAssertEqual(part.status, 0, part.stderrText)
        }
        assertSame(try contents(clusters.target, "sharded"), try contents(clusters.source, "orders"), "--shard 0/2 + 1/2")
    }

    func testSIGKILLAtRandomPointsThenRerunCopiesEachMessageOnce() throws {
        let directory = try TestEnvironment.temporaryDirectory("kafka-copy-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let clusters = try makeClusters()
        try fill(clusters.source, 0..<3000)
        let state = directory.appendingPathComponent("state")
        let paced = arguments(clusters, state, ["--rate", "1000", "--checkpoint-interval", "0.1"])
        let delivered = { try self.totalMessages(clusters.target, "orders", partitions: 6) }
        // First killed during start-up (0-0.3 s in: before or after the first checkpoint and its ranges, before
        // or after the first message), then once after delivering.
        var delays = try ReplayProcess.killAtRandomPoints(1, paced, logIn: directory, afterDelivering: 0, maxDelay: 300_000,
                                                          mustBeRunning: false, delivered: delivered)
        delays += try ReplayProcess.killAtRandomPoints(1, paced, logIn: directory, afterDelivering: 1, maxDelay: 400_000,
                                                       mustBeRunning: true, delivered: delivered)
        // Something was delivered, so the range is fixed: the source growing now changes nothing.
        let range = try contents(clusters.source, "orders")
        try fill(clusters.source, 3000..<3500)
        // About 3 s at 1,000 messages/s: kills of at most 0.4 s each land on a replay still producing.
        delays += try ReplayProcess.killAtRandomPoints(2, paced, logIn: directory, afterDelivering: 1, maxDelay: 400_000,
                                                       mustBeRunning: true, delivered: delivered)
        let final = try ReplayProcess.run(arguments(clusters, state, ["--json", "--quiet"]))
        XCTAssertEqual(final.status, 0, "kill delays \(delays) µs: \(final.stderrText)")
        XCTAssertTrue(final.stderrText.contains("resuming from checkpoint"), final.stderrText)
        XCTAssertFalse(final.stderrText.contains("warning"), final.stderrText)
        assertSame(try contents(clusters.target, "orders"), range, "kill delays \(delays) µs")
    }

    /// The source's retention removed the last message a killed copy delivered (and the next ones) before the
    /// rerun: the rerun says so, copies what is left of the range, and duplicates nothing.
    func testSourceRetentionBeforeTheRerunIsReportedAndTheRestCopied() throws {
        let directory = try TestEnvironment.temporaryDirectory("kafka-copy-retention")
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = try EmbeddedKafkaCluster(brokers: 1)
        try source.createTopic("big", partitions: 1, replicationFactor: 1)
        let target = try EmbeddedKafkaCluster(brokers: 1)
        try target.createTopic("big", partitions: 1, replicationFactor: 1)
        var config = KafkaConfig()
        config.set("bootstrap.servers", source.bootstrap)
        config.set("linger.ms", "0")
        config.set("compression.type", "none")   // the size that counts is what the broker stores
        let producer = try KafkaProducer(config: config)
        // 5 KB values told apart by their index: 600 (3 MB) now, 800 more after the kill, beyond the 5 MB the
        // mock cluster keeps per partition.
        let filler = (0..<5_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let values = (0..<1_400).map { Array("value \($0) ".utf8) + filler }
        for value in values[0..<600] { try producer.produce(topic: "big", partition: 0, key: Array("k".utf8), value: value) }
        XCTAssertTrue(producer.flush(timeoutMs: 60_000))

        let state = directory.appendingPathComponent("state")
        let copy = ["--from", "kafka://\(source.bootstrap)/big", "--to", "kafka", "--bootstrap", target.bootstrap,
                    "--state-dir", state.path, "-X", "compression.type=none"]
        var targetConfig = KafkaConfig()
        targetConfig.set("bootstrap.servers", target.bootstrap)
        let targetConsumer = try KafkaConsumer(config: targetConfig)
        let delays = try ReplayProcess.killAtRandomPoints(1, copy + ["--rate", "200", "--checkpoint-interval", "0.1"], logIn: directory,
                                                          afterDelivering: 20, maxDelay: 200_000, mustBeRunning: true) {
            try targetConsumer.watermarks(topic: "big", partition: 0).high
        }
        usleep(300_000)   // requests the killed process had sent still land
        let copied = try targetConsumer.watermarks(topic: "big", partition: 0).high
        for value in values[600...] { try producer.produce(topic: "big", partition: 0, key: Array("k".utf8), value: value) }
        XCTAssertTrue(producer.flush(timeoutMs: 60_000))
        let (low, _) = try producer.watermarks(topic: "big", partition: 0)
        XCTAssertGreaterThan(low, copied, "retention was expected to remove more than the killed run copied")
        XCTAssertLessThan(low, 600)

        let rerun = try ReplayProcess.run(copy + ["--quiet"])
        XCTAssertEqual(rerun.status, 0, "kill after \(delays) µs: \(rerun.stderrText)")
        XCTAssertTrue(rerun.stderrText.contains("(retention), so the last message this replay delivered to big [0] cannot be compared"),
                      rerun.stderrText)
        XCTAssertTrue(rerun.stderrText.contains("are no longer in Kafka (its earliest offset is \(low)); they will be missing from topic big"),
                      rerun.stderrText)
        // What the killed run delivered (a prefix), then the rest of the range that retention left, each once.
        let back = try KafkaReadBack.kafkaPython(bootstrap: target.bootstrap, topics: ["big"]).map(\.value)
        XCTAssertEqual(back.count, Int(copied) + 600 - Int(low))
        XCTAssertEqual(Array(back.prefix(Int(copied))), Array(values[0..<Int(copied)]), "the killed run's messages, in order")
        XCTAssertEqual(Array(back.dropFirst(Int(copied))), Array(values[Int(low)..<600]), "the rest of the first run's range, in order")
    }

    /// Copying a topic onto itself, log-stream options, a dry run and a target with too few partitions are
    /// refused (exit 2) before anything is produced.
    func testWhatCannotBeCopiedIsRefusedBeforeProducing() throws {
        let directory = try TestEnvironment.temporaryDirectory("kafka-copy-refused")
        defer { try? FileManager.default.removeItem(at: directory) }
        let clusters = try makeClusters(targetTopics: [("orders", 6), ("small", 2)])
        try fill(clusters.source, 0..<100)
        let state = directory.appendingPathComponent("state")
        let onto = ["--from", "kafka://\(clusters.source.bootstrap)/orders", "--to", "kafka", "--bootstrap", clusters.source.bootstrap,
                    "--state-dir", state.path]
        let cases: [([String], String)] = [
            (onto, "are the same topic of the same cluster"),
            (arguments(clusters, state, ["--symbols", "BTCUSDT"]), "--source and --symbols select log streams"),
            (arguments(clusters, state, ["--dry-run"]), "--dry-run and --to jsonl read segment logs"),
            (arguments(clusters, state, ["--topic", "small"]), "topic small has 2 partitions, fewer than the 4 of orders"),
            (arguments(clusters, state, ["--from-offset", "soon"]), "--from-offset soon: expected earliest, latest or an offset"),
            (arguments(clusters, state, ["--from-offset", "beginning"]), "--from-offset beginning: write --from-offset earliest"),
            (arguments(clusters, state, ["--shard", "3/2"]), "--shard expects i/n with 0 <= i < n, got 3/2"),
            (arguments(clusters, state, ["--partitions", "2-1"]), "--partitions 2-1: expected partition numbers and ranges"),
            (arguments(clusters, state, ["--until-time", "2024-02-09"]), "Unknown option '--until-time'"),
        ]
        for (arguments, message) in cases {
            let result = try ReplayProcess.run(arguments)
            XCTAssertEqual(result.status, 2, "\(arguments): \(result.stderrText)")
            XCTAssertTrue(result.stderrText.contains(message), "\(arguments): \(result.stderrText)")
        }
        XCTAssertEqual(try totalMessages(clusters.source, "orders", partitions: 4), 100)
        XCTAssertEqual(try totalMessages(clusters.target, "orders", partitions: 6), 0)
        XCTAssertEqual(try totalMessages(clusters.target, "small", partitions: 2), 0)
    }
}
