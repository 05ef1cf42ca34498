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
        let clusters = try makeClusters(targetTopics: [("orders", 6), ("late", 4), ("early", 4)])
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
        // seen now (625 per partition). (--from-time is not tried: librdkafka 2.0.2's mock cluster answers a
        // look-up by time with the end offset.)
        let late = try ReplayProcess.run(arguments(clusters, state, ["--topic", "late", "--from-offset", "375", "--quiet"]))
        XCTAssertEqual(late.status, 0, late.stderrText)
        let expected = try contents(clusters.source, "orders").mapValues { Array($0.dropFirst(375)) }
        XCTAssertEqual(expected.values.map(\.count).reduce(0, +), 1000)
        assertSame(try contents(clusters.target, "late"), expected, "--from-offset 375 --topic late")
        // And up to a time: each partition stops at its first message stamped 1,000 ms after the base or later.
        let early = try ReplayProcess.run(arguments(clusters, state, ["--topic", "early", "--until-time", String(base + 1000), "--quiet"]))
        XCTAssertEqual(early.status, 0, early.stderrText)
        let before = try contents(clusters.source, "orders").mapValues { Array($0.prefix(250)) }
        assertSame(try contents(clusters.target, "early"), before, "--until-time base+1000 --topic early")
    }

    func testSIGKILLAtRandomPointsThenRerunCopiesEachMessageOnce() throws {
        let directory = try TestEnvironment.temporaryDirectory("kafka-copy-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let clusters = try makeClusters()
        try fill(clusters.source, 0..<3000)
        let state = directory.appendingPathComponent("state")
        // About 3 s at 1,000 messages/s: four kills of at most 0.4 s each land on a replay still producing.
        let delays = try ReplayProcess.killAtRandomPoints(
            4, arguments(clusters, state, ["--rate", "1000", "--checkpoint-interval", "0.1"]), logIn: directory,
            afterDelivering: 1, maxDelay: 400_000, mustBeRunning: true) { try totalMessages(clusters.target, "orders", partitions: 6) }
        let final = try ReplayProcess.run(arguments(clusters, state, ["--json", "--quiet"]))
        XCTAssertEqual(final.status, 0, "kill delays \(delays) µs: \(final.stderrText)")
        let summary = try JSONSerialization.jsonObject(with: final.stdout) as! [String: Any]
        XCTAssertGreaterThan(summary["skipped_already_in_kafka"] as? Int ?? 0, 0, "the killed runs delivered something")
        assertSame(try contents(clusters.target, "orders"), try contents(clusters.source, "orders"), "kill delays \(delays) µs")
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
            (arguments(clusters, state, ["--symbols", "BTCUSDT"]), "--source, --symbols, --since and --until select log streams"),
            (arguments(clusters, state, ["--dry-run"]), "--dry-run and --to jsonl read segment logs"),
            (arguments(clusters, state, ["--topic", "small"]), "topic small has 2 partitions, fewer than the 4 of orders"),
            (arguments(clusters, state, ["--from-offset", "soon"]), "--from-offset: earliest, latest or N, got soon"),
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
