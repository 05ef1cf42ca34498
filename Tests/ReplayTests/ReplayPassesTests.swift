import Bronze
import Foundation
import Kafka
import TestSupport
import XCTest

/// `--passes` / `--duration`: each pass's trades distinct (Binance trade ids shifted by pass × 10^12, times moved
/// to the pass's start), and a pass killed with SIGKILL resumed so that each (pass, trade) is in Kafka once.
final class ReplayPassesTests: XCTestCase {
    let topics = ["market.crypto.trades.binance.raw", "market.crypto.trades.kraken.raw"]
    let schemas = ["market.crypto.trades.binance.raw": BronzeSchemas.binanceRawTrade,
                   "market.crypto.trades.kraken.raw": BronzeSchemas.krakenRawTrade]

    private func makeCluster() throws -> EmbeddedKafkaCluster {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        for topic in topics { try cluster.createTopic(topic, partitions: 6) }
        return cluster
    }

    private func arguments(_ directory: URL, _ cluster: EmbeddedKafkaCluster, _ extra: [String]) -> [String] {
        ["--from", directory.path, "--bootstrap", cluster.bootstrap, "--schema-id", "binance=11,kraken=12",
         "--source", "binance,kraken,kraken-v2", "--state-dir", directory.appendingPathComponent("state").path] + extra
    }

    private func total(_ cluster: EmbeddedKafkaCluster) throws -> Int64 {
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let consumer = try KafkaConsumer(config: config)
        var sum: Int64 = 0
        for topic in topics {
            for partition in Int32(0)..<6 { sum += (try? consumer.watermarks(topic: topic, partition: partition).high) ?? 0 }
        }
        return sum
    }

    /// Per (pass, trade): the fixture's messages once per pass. A Binance message's pass is its trade id's
    /// multiple of 10^12; a Kraken message's is told by its timestamp (each pass's times start at its own anchor).
    private func assertEachPassOnce(_ consumed: [ConsumedMessage], fixture: ReplayFixture, passes: Int, startedMs: Int64,
                                    file: StaticString = #filePath, line: UInt = #line) {
        let expected = fixture.expected.filter { topics.contains($0.topic) }
        XCTAssertEqual(consumed.count, expected.count * passes, "messages", file: file, line: line)
        XCTAssertEqual(Set(consumed.map(\.content)).count, consumed.count, "no message twice", file: file, line: line)
        // Binance: (pass, original trade id) each once, passes 0..<passes.
        var binance: [String: Int] = [:]
        for message in consumed where message.topic == topics[0] {
            let id = message.decoded?["trade_id"] as? Int ?? -1
            let pass = id / 1_000_000_000_000
            XCTAssertTrue((0..<passes).contains(pass), "trade id \(id)", file: file, line: line)
            binance["\(pass)/\(id % 1_000_000_000_000)/\(String(decoding: message.key, as: UTF8.self))", default: 0] += 1
        }
        let binanceTrades = expected.filter { $0.topic == topics[0] }
        XCTAssertEqual(binance.count, binanceTrades.count * passes, file: file, line: line)
        XCTAssertEqual(Set(binance.values), [1], file: file, line: line)
        for pass in 0..<passes {
            for trade in binanceTrades {
                let key = "\(pass)/\(trade.fields["trade_id"] as! Int64)/\(String(decoding: trade.key, as: UTF8.self))"
                XCTAssertEqual(binance[key], 1, key, file: file, line: line)
            }
        }
        // Fresh times: every message stamped after the first run started (the fixture is dated 2024-02-09),
        // and its value's ingestion_timestamp is its Kafka timestamp.
        for message in consumed {
            XCTAssertGreaterThanOrEqual(message.timestampMs, startedMs - 1000, file: file, line: line)
            if let micros = message.decoded?["ingestion_timestamp"] as? Int {
                XCTAssertEqual(Int64(micros) / 1000, message.timestampMs, file: file, line: line)
            }
        }
    }

    func testPassesAreRestampedAndARerunProducesNothing() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-passes")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 60, krakenFrames: 20)
        let cluster = try makeCluster()
        let startedMs = Int64(Date().timeIntervalSince1970 * 1000)
        let run = try ReplayProcess.run(arguments(directory, cluster, ["--passes", "3", "--rate", "3000", "--json", "--quiet"]))
        XCTAssertEqual(run.status, 0, run.stderrText)
        let report = try JSONSerialization.jsonObject(with: run.stdout) as! [String: Any]
        XCTAssertEqual(report["passes_done"] as? Int, 3)
        let consumed = try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: topics, schemas: schemas)
        assertEachPassOnce(consumed, fixture: fixture, passes: 3, startedMs: startedMs)
        // With --rate, the n-th message of a pass is stamped anchor + n/rate: a pass's times are 1/3000 s apart.
        let pass1 = consumed.filter { ($0.decoded?["trade_id"] as? Int ?? 0) >= 1_000_000_000_000 && ($0.decoded?["trade_id"] as? Int ?? 0) < 2_000_000_000_000 }
        let times = pass1.map(\.timestampMs)
        let expectedSpan = Double(fixture.expected.filter { topics.contains($0.topic) }.count) / 3000 * 1000
        XCTAssertLessThanOrEqual(Double(times.max()! - times.min()!), expectedSpan + 1)
        XCTAssertGreaterThanOrEqual(Double(times.max()! - times.min()!), expectedSpan * 0.8)

        let again = try ReplayProcess.run(arguments(directory, cluster, ["--passes", "3", "--rate", "3000", "--json", "--quiet"]))
        XCTAssertEqual(again.status, 0, again.stderrText)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: again.stdout) as! [String: Any])["passes_run"] as? Int, 0)
        XCTAssertEqual(try total(cluster), Int64(consumed.count))
    }

    /// With a burst that can catch up the pause between two passes (a new producer and checkpoint), the next
    /// pass continues the previous pass's schedule: its first stamp follows the last one by one interval, so
    /// the rate holds across passes instead of losing the pause each time.
    func testTheNextPassContinuesTheScheduleWhenTheBurstCanCatchUp() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-passes-schedule")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 60, krakenFrames: 20)
        let cluster = try makeCluster()
        let startedMs = Int64(Date().timeIntervalSince1970 * 1000)
        let run = try ReplayProcess.run(arguments(directory, cluster, ["--passes", "2", "--rate", "2000", "--burst", "100000", "--json", "--quiet"]))
        XCTAssertEqual(run.status, 0, run.stderrText)
        let consumed = try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: topics, schemas: schemas)
        assertEachPassOnce(consumed, fixture: fixture, passes: 2, startedMs: startedMs)
        // The n-th message of a pass is stamped anchor + n/2000 s, and pass 2's anchor is exactly where pass 1's
        // schedule ended (anchor + ⌈n/2000 s⌉ + 1 ms). Started anew, pass 2's anchor would be the wall clock after
        // pass 1's flush and the next pass's start-up: later by that pause.
        let stamps = consumed.map(\.timestampMs).sorted()
        let perPass = consumed.count / 2
        let scheduleMs = Int64((Double(perPass) * 1000 / 2000).rounded(.up)) + 1
        XCTAssertEqual(stamps[perPass] - stamps[0], scheduleMs, "pass 2's first stamp after pass 1's first (ms)")
        let pauses = zip(stamps.dropFirst(), stamps).map { $0 - $1 }
        XCTAssertLessThanOrEqual(pauses.max() ?? 0, 2, "the largest step between two stamps (ms)")
    }

    func testSIGKILLInTheMiddleOfAPassThenRerunYieldsEachPassAndTradeOnce() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-passes-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 300, krakenFrames: 40)
        let perPass = Int64(fixture.expected.filter { topics.contains($0.topic) }.count)
        let cluster = try makeCluster()
        let startedMs = Int64(Date().timeIntervalSince1970 * 1000)
        let args = arguments(directory, cluster, ["--passes", "3", "--rate", "1500", "--checkpoint-interval", "0.1"])
        // Killed in the middle of the second pass.
        let process = try ReplayProcess.start(args, logIn: directory, name: "run")
        for _ in 0..<1500 where process.isRunning {
            if try total(cluster) >= perPass + perPass / 2 { break }
            usleep(20_000)
        }
        XCTAssertTrue(process.isRunning, "the kill must hit a running replay")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let seen = try total(cluster)
        XCTAssertGreaterThan(seen, perPass)
        XCTAssertLessThan(seen, 2 * perPass)
        let ledger = try FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent("state").path)
            .filter { $0.hasPrefix("passes-") && $0.hasSuffix(".json") }
        XCTAssertEqual(ledger.count, 1)

        let rerun = try ReplayProcess.run(args + ["--json", "--quiet"])
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        let report = try JSONSerialization.jsonObject(with: rerun.stdout) as! [String: Any]
        XCTAssertEqual(report["passes_run"] as? Int, 2, "the second pass resumed, then the third")
        XCTAssertGreaterThan(report["skipped_already_in_kafka"] as? Int ?? 0, 0, "the killed pass delivered something")
        let consumed = try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: topics, schemas: schemas)
        assertEachPassOnce(consumed, fixture: fixture, passes: 3, startedMs: startedMs)
    }

    func testDurationEndsThePassUnderWayAndExitsZero() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-passes-duration")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try ReplayFixture.write(to: directory.path, binanceTrades: 300, krakenFrames: 40)
        let cluster = try makeCluster()
        // 1,000 msg/s for 2 s: about 2,000 messages, more than two passes of ~700, fewer than three.
        let run = try ReplayProcess.run(arguments(directory, cluster, ["--duration", "2s", "--rate", "1000", "--json", "--quiet"]))
        XCTAssertEqual(run.status, 0, run.stderrText)
        let report = try JSONSerialization.jsonObject(with: run.stdout) as! [String: Any]
        XCTAssertEqual(report["interrupted"] as? Bool, false)
        XCTAssertGreaterThanOrEqual(report["passes_done"] as? Int ?? 0, 1)
        XCTAssertEqual(Int64(report["produced"] as? Int ?? -1), try total(cluster), "every produced message delivered")
    }
}
