import Bronze
import Foundation
import Kafka
import SegmentLog
import TestSupport
import XCTest

final class ReplayToKafkaTests: XCTestCase {
    let topics = ["market.crypto.trades.binance.raw", "market.crypto.trades.kraken.raw", "orders"]
    var schemas: [String: String] {
        ["market.crypto.trades.binance.raw": BronzeSchemas.binanceRawTrade, "market.crypto.trades.kraken.raw": BronzeSchemas.krakenRawTrade]
    }

    private func makeCluster() throws -> EmbeddedKafkaCluster {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        try cluster.createTopic("market.crypto.trades.binance.raw", partitions: 6)
        try cluster.createTopic("market.crypto.trades.kraken.raw", partitions: 6)
        // librdkafka 2.0.2's mock cluster does not answer CreateTopics: the Kafka-sourced topic is made here.
        try cluster.createTopic("orders", partitions: 2)
        return cluster
    }

    /// Checks what kafka-python read against the fixture: every record once, per partition in log order,
    /// with the right key, timestamp, value (fastavro-decoded fields, or exact bytes) and headers.
    private func assertMatches(_ consumed: [ConsumedMessage], _ fixture: ReplayFixture, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(consumed.count, fixture.expected.count, "message count", file: file, line: line)
        fixture.walkInLogOrder(consumed, file: file, line: line) { want, message, position, _ in
            XCTAssertEqual(message.offset, Int64(position), file: file, line: line)
            XCTAssertEqual(message.key, want.key, file: file, line: line)
            XCTAssertEqual(message.timestampMs, want.timestampMs, file: file, line: line)
            if let raw = want.rawValue {
                XCTAssertEqual(message.value, raw, file: file, line: line)
                let headers = message.headers
                XCTAssertEqual(headers.map(\.0), want.headers.map(\.0), file: file, line: line)
                XCTAssertEqual(headers.map { $0.1 ?? [0xDE, 0xAD] }, want.headers.map { $0.1 ?? [0xDE, 0xAD] }, file: file, line: line)
            } else {
                XCTAssertTrue(message.headers.isEmpty, "K2 messages carry no headers: \(message.headers)", file: file, line: line)
                guard let decoded = message.decoded else { XCTFail("not decoded", file: file, line: line); return }
                for (name, value) in want.fields {
                    let actual = decoded[name]
                    switch value {
                    case is NSNull: XCTAssertTrue(actual is NSNull, "\(name)", file: file, line: line)
                    case let text as String: XCTAssertEqual(actual as? String, text, "\(name)", file: file, line: line)
                    case let number as Int64: XCTAssertEqual((actual as? Int).map(Int64.init), number, "\(name)", file: file, line: line)
                    case let flag as Bool: XCTAssertEqual(actual as? Bool, flag, "\(name)", file: file, line: line)
                    default: XCTFail("unexpected expectation type for \(name)", file: file, line: line)
                    }
                }
                XCTAssertEqual(decoded.count - 1, want.fields.count, "field count", file: file, line: line)
                XCTAssertEqual(decoded["_schema_id"] as? Int, want.topic.contains("binance") ? 11 : 12, file: file, line: line)
            }
        }
        XCTAssertEqual(Set(consumed.map(\.content)).count, consumed.count, "each record once (by key and value bytes)", file: file, line: line)
    }

    func testReplayIsReadBackExactlyByKafkaPythonFastavroAndKcat() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path)
        let state = directory.appendingPathComponent("state").path
        let cluster = try makeCluster()
        let result = try ReplayProcess.run(["--from", directory.path, "--bootstrap", cluster.bootstrap, "--state-dir", state,
                                            "--schema-id", "binance=11,kraken=12", "--json", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderrText)
        let summary = try JSONSerialization.jsonObject(with: result.stdout) as! [String: Any]
        XCTAssertEqual(summary["delivered"] as? Int, fixture.expected.count)
        XCTAssertEqual(summary["failed"] as? Int, 0)
        XCTAssertEqual(summary["frames_malformed"] as? Int, 1)
        XCTAssertEqual(summary["frames_not_trades"] as? Int, 6)   // the heartbeats
        XCTAssertEqual(summary["records_read"] as? Int, fixture.dataRecords)

        let consumed = try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: topics, schemas: schemas)
        assertMatches(consumed, fixture)

        // kcat sees the same partitions, offsets, keys, timestamps and value sizes.
        for topic in topics {
            let lines = try KafkaReadBack.kcat(bootstrap: cluster.bootstrap, topic: topic)
            let mine = consumed.filter { $0.topic == topic }
            XCTAssertEqual(lines.count, mine.count, topic)
            let index = Dictionary(uniqueKeysWithValues: mine.map { ("\($0.partition) \($0.offset)", $0) })
            for line in lines {
                let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: false)
                guard let message = index["\(fields[0]) \(fields[1])"] else { XCTFail("kcat saw \(line)"); continue }
                XCTAssertEqual(String(fields[2]), String(decoding: message.key, as: UTF8.self))
                XCTAssertEqual(Int64(fields[3]), message.timestampMs)
                XCTAssertEqual(Int(fields[4]), message.value.count)
                XCTAssertFalse(fields[5].contains("k2-replay-id"), line)
                if topic != "orders" { XCTAssertEqual(fields[5], "", "no headers: \(line)") }
            }
        }

        // A second replay of the same log into a fresh cluster (another replay: a fresh start, not a resume) gives
        // identical keys, values and timestamps everywhere; --provenance adds the k2-replay-id header.
        let second = try makeCluster()
        let again = try ReplayProcess.run(["--from", directory.path, "--bootstrap", second.bootstrap, "--state-dir", state,
                                           "--schema-id", "binance=11,kraken=12", "--provenance", "--quiet"])
        XCTAssertEqual(again.status, 0, again.stderrText)
        let consumedAgain = try KafkaReadBack.kafkaPython(bootstrap: second.bootstrap, topics: topics)
        XCTAssertEqual(consumedAgain.count, consumed.count)
        for (a, b) in zip(consumed, consumedAgain) {
            XCTAssertEqual([a.topic, "\(a.partition)", "\(a.offset)"], [b.topic, "\(b.partition)", "\(b.offset)"])
            XCTAssertEqual(a.key, b.key)
            XCTAssertEqual(a.value, b.value)
            XCTAssertEqual(a.timestampMs, b.timestampMs)
            XCTAssertEqual(a.headers.map(\.0) + ["k2-replay-id"], b.headers.map(\.0))
            XCTAssertNil(a.provenance)
        }
        let ids = consumedAgain.compactMap(\.provenance)
        XCTAssertEqual(ids.count, consumedAgain.count)
        XCTAssertEqual(Set(ids).count, ids.count, "provenance ids are unique")

        // Re-running against the first cluster adds nothing: everything is already there.
        let rerun = try ReplayProcess.run(["--from", directory.path, "--bootstrap", cluster.bootstrap, "--state-dir", state,
                                           "--schema-id", "binance=11,kraken=12", "--json", "--quiet"])
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        let rerunSummary = try JSONSerialization.jsonObject(with: rerun.stdout) as! [String: Any]
        XCTAssertEqual(rerunSummary["produced"] as? Int, 0)
        XCTAssertEqual(rerunSummary["skipped_already_in_kafka"] as? Int, fixture.expected.count)
        XCTAssertEqual(try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: topics).count, fixture.expected.count)
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: state).filter { $0.hasSuffix(".json") }
        XCTAssertEqual(checkpoints.count, 2, "one checkpoint per replay (cluster): \(checkpoints)")
    }

    func testJSONFormatSelectionAndDryRun() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-json")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 40, krakenFrames: 10)
        let cluster = try makeCluster()
        let result = try ReplayProcess.run(["--from", directory.path, "--bootstrap", cluster.bootstrap, "--format", "json",
                                            "--source", "kraken", "--quiet", "--state-dir", directory.appendingPathComponent("state").path])
        XCTAssertEqual(result.status, 0, result.stderrText)
        let consumed = try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: ["market.crypto.trades.kraken.raw"])
        let kraken = fixture.expected.filter { $0.topic.contains("kraken") }
        XCTAssertEqual(consumed.count, kraken.count)
        for (message, want) in zip(consumed.sorted { $0.offset < $1.offset }, kraken) {
            let object = try JSONSerialization.jsonObject(with: Data(message.value)) as! [String: Any]
            XCTAssertEqual(object["price"] as? String, want.fields["price"] as? String)
            XCTAssertEqual(object["timestamp"] as? String, want.fields["timestamp"] as? String)
            XCTAssertEqual((object["ingestion_timestamp"] as? Int).map(Int64.init), want.fields["ingestion_timestamp"] as? Int64)
        }

        let dry = try ReplayProcess.run(["--from", directory.path, "--dry-run", "--schema-id", "1", "--json", "--quiet"])
        XCTAssertEqual(dry.status, 0, dry.stderrText)
        let summary = try JSONSerialization.jsonObject(with: dry.stdout) as! [String: Any]
        XCTAssertEqual(summary["would_produce"] as? Int, fixture.expected.count)
        let perPartition = summary["per_partition"] as! [[String: Any]]
        let btc = K2Partitioner.partition(key: "BTCUSDT", partitionCount: 6)!
        let eth = K2Partitioner.partition(key: "ETHUSDT", partitionCount: 6)!
        if btc != eth {
            let entry = perPartition.first { $0["topic"] as? String == "market.crypto.trades.binance.raw" && $0["partition"] as? Int == Int(btc) }
            XCTAssertEqual(entry?["messages"] as? Int, 40, "\(perPartition)")
        }
        XCTAssertEqual(perPartition.compactMap { $0["messages"] as? Int }.reduce(0, +), fixture.expected.count)
    }

    func testJSONLinesAreTheLogsCat() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-jsonl")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 50, krakenFrames: 10)
        let all = try ReplayProcess.run(["--from", directory.path, "--to", "jsonl"])
        XCTAssertEqual(all.status, 0, all.stderrText)
        let lines = all.stdoutText.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        XCTAssertEqual(lines.count, fixture.dataRecords + fixture.controlRecords)
        XCTAssertEqual(lines.first?["kind"] as? String, "connect")
        let gap = lines.first { $0["kind"] as? String == "gap" }
        XCTAssertEqual(gap?["expected"] as? Int, 1041)
        XCTAssertEqual(gap?["seen"] as? Int, 1041)
        XCTAssertEqual(lines.filter { $0["malformed"] as? Bool == true }.count, 1)
        let order = lines.first { $0["source"] as? String == "kafka:orders" }
        XCTAssertNotNil(order?["payload_base64"])   // 0xFF is not UTF-8
        XCTAssertEqual((order?["kafka"] as? [String: Any])?["key"] as? String, "acct-0")
        let times = lines.map { $0["receive_time_ns"] as! Int }
        for line in lines.prefix(20) {   // receive_time is the same instant as receive_time_ns, in RFC 3339 µs
            let ns = line["receive_time_ns"] as! Int
            let text = line["receive_time"] as! String
            XCTAssertEqual(String(text.prefix(19)), String(TimeParser_rfc3339(Int64(ns / 1_000_000_000 * 1_000_000_000)).prefix(19)))
            XCTAssertEqual(String(text.dropFirst(19)), "." + String(format: "%06d", ns / 1000 % 1_000_000) + "Z")
        }
        XCTAssertEqual(times, times.sorted())

        let dataOnly = try ReplayProcess.run(["--from", directory.path, "--to", "jsonl", "--data-only", "--source", "binance",
                                              "--symbols", "ETHUSDT"])
        XCTAssertEqual(dataOnly.status, 0, dataOnly.stderrText)
        let ethLines = dataOnly.stdoutText.split(separator: "\n")
        XCTAssertEqual(ethLines.count, 50)
        XCTAssertTrue(ethLines.allSatisfy { $0.contains(#""stream":"ethusdt@trade""#) && $0.contains(#""kind":"data""#) })

        let since = TimeParser_rfc3339(ReplayFixture.baseNanos + 20_000_000)
        let windowed = try ReplayProcess.run(["--from", directory.path, "--to", "jsonl", "--since", since])
        XCTAssertEqual(windowed.status, 0, windowed.stderrText)
        let windowTimes = windowed.stdoutText.split(separator: "\n").map {
            (try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["receive_time_ns"] as! Int
        }
        XCTAssertEqual(windowTimes, times.filter { $0 >= Int(ReplayFixture.baseNanos + 20_000_000) })
    }

    func testBadArgumentsExitTwo() throws {
        let missing = try ReplayProcess.run(["--from", "/nonexistent/log", "--to", "jsonl"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderrText.contains("/nonexistent/log"), missing.stderrText)
        let noBootstrap = try ReplayProcess.run(["--from", "/tmp", "--schema-id", "1"])
        XCTAssertNotEqual(noBootstrap.status, 0)
    }
}

/// RFC 3339 with microseconds (the k2-replay test does not depend on K2CLI's formatter).
func TimeParser_rfc3339(_ nanos: Int64) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: Date(timeIntervalSince1970: Double(nanos) / 1e9))
}
