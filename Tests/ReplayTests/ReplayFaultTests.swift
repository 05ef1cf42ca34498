import Bronze
import Foundation
import Kafka
import SegmentLog
import TestSupport
import XCTest

/// Faults during a replay: a broker down (the run waits, or fails clearly when told to give up, and a
/// rerun completes it), and the process killed with SIGKILL at random points (each record ends up once).
final class ReplayFaultTests: XCTestCase {
    let topics = ["market.crypto.trades.binance.raw", "market.crypto.trades.kraken.raw", "orders"]

    private func makeCluster(leader: Int32? = nil) throws -> EmbeddedKafkaCluster {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        for (topic, partitions) in [("market.crypto.trades.binance.raw", Int32(6)), ("market.crypto.trades.kraken.raw", 6), ("orders", 2)] {
            try cluster.createTopic(topic, partitions: partitions)
            if let leader {
                for partition in 0..<partitions { try cluster.setPartitionLeader(topic: topic, partition: partition, brokerId: leader) }
            }
        }
        return cluster
    }

    /// Waits until the replay has appended messages (it is past its start-up reads of partition tails),
    /// at most 60 s: a broker taken down during those reads is a different fault.
    private func waitUntilProducing(_ cluster: EmbeddedKafkaCluster) throws {
        _ = try waitForBinanceMessages(cluster, atLeast: 50)
    }

    /// Polls the high watermarks of the Binance topic until they add up to `atLeast` messages, `process`
    /// (if given) has exited, or 30 s have passed; returns the last total seen.
    @discardableResult
    private func waitForBinanceMessages(_ cluster: EmbeddedKafkaCluster, atLeast: Int64, while process: Process? = nil) throws -> Int64 {
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let consumer = try KafkaConsumer(config: config)
        var total: Int64 = 0
        for _ in 0..<600 {
            total = 0
            for partition in Int32(0)..<6 {
                total += (try? consumer.watermarks(topic: "market.crypto.trades.binance.raw", partition: partition).high) ?? 0
            }
            if total >= atLeast { return total }
            if let process, !process.isRunning { return total }
            usleep(50_000)
        }
        return total
    }

    private func replayArguments(_ directory: URL, _ cluster: EmbeddedKafkaCluster, _ extra: [String] = []) -> [String] {
        ["--from", directory.path, "--bootstrap", cluster.bootstrap, "--schema-id", "binance=11,kraken=12",
         "--state-dir", directory.appendingPathComponent("state").path] + extra
    }

    /// The one checkpoint file in the test's state directory.
    private func checkpointPath(_ directory: URL) throws -> String {
        let state = directory.appendingPathComponent("state")
        let files = try FileManager.default.contentsOfDirectory(atPath: state.path).filter { $0.hasSuffix(".json") }
        XCTAssertEqual(files.count, 1, "\(files)")
        return state.appendingPathComponent(files[0]).path
    }

    /// Per partition of the checkpoint: the messages its streams count as delivered.
    private func checkpointDelivered(_ path: String) throws -> [Int] {
        let object = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        return (object["partitions"] as! [[String: Any]]).map { partition in
            (partition["streams"] as! [[String: Any]]).map { $0["delivered"] as! Int }.reduce(0, +)
        }
    }

    /// Produces `count` messages of another producer into every Binance partition (keys like the replay's,
    /// values `foreign-N`), the way a live producer sharing the topic would.
    private func produceForeign(_ cluster: EmbeddedKafkaCluster, count: Int, from start: Int) throws {
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        for index in start..<(start + count) {
            let key = index % 2 == 0 ? "BTCUSDT" : "ETHUSDT"
            try producer.produce(topic: "market.crypto.trades.binance.raw",
                                 partition: K2Partitioner.partition(key: key, partitionCount: 6), key: Array(key.utf8),
                                 value: Array("foreign-\(index)".utf8), timestampMs: 1_600_000_000_000 + Int64(index))
        }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))
        XCTAssertEqual(producer.failedCount, 0)
    }

    /// Every expected message exactly once (counted by key and value bytes, which are unique per record), per
    /// partition in log order, without headers (K2's messages have none); `foreign` messages of another
    /// producer left as they were.
    private func assertExactlyOnce(_ cluster: EmbeddedKafkaCluster, _ fixture: ReplayFixture, foreign: Int = 0,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let all = try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: topics)
        let isForeign = { (message: ConsumedMessage) in message.value.starts(with: Array("foreign-".utf8)) }
        let others = all.filter(isForeign)
        XCTAssertEqual(others.count, foreign, "the other producer's messages", file: file, line: line)
        XCTAssertEqual(Set(others.map(\.content)).count, others.count, file: file, line: line)
        let consumed = all.filter { !isForeign($0) }
        XCTAssertEqual(consumed.count, fixture.expected.count, "message count", file: file, line: line)
        let contents = consumed.map(\.content)
        XCTAssertEqual(Set(contents).count, contents.count, "duplicates: \(contents.count - Set(contents).count)", file: file, line: line)
        for message in consumed where message.topic != "orders" {
            XCTAssertTrue(message.headers.isEmpty, "\(message.topic) [\(message.partition)] @\(message.offset) has headers", file: file, line: line)
        }
        fixture.walkInLogOrder(consumed, file: file, line: line) { want, got, position, slot in
            XCTAssertEqual(got.key, want.key, file: file, line: line)
            XCTAssertEqual(got.timestampMs, want.timestampMs, "\(slot) #\(position)", file: file, line: line)
            if let raw = want.rawValue {
                XCTAssertEqual(got.value, raw, file: file, line: line)
                XCTAssertEqual(got.headers.map(\.0), want.headers.map(\.0), file: file, line: line)
            }
        }
    }

    func testBrokerDownMidReplayWaitsAndLosesNothing() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-broker")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 300, krakenFrames: 60)
        let cluster = try makeCluster(leader: 1)
        let process = try ReplayProcess.start(replayArguments(directory, cluster, ["--rate", "400"]), logIn: directory, name: "run")
        try waitUntilProducing(cluster)
        try cluster.setBrokerDown(1)
        usleep(2_500_000)
        XCTAssertTrue(process.isRunning, "the replay waits for the broker")
        try cluster.setBrokerUp(1)
        process.waitUntilExit()
        let stderr = try String(contentsOf: directory.appendingPathComponent("run.err"), encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 0, stderr)
        try assertExactlyOnce(cluster, fixture)
    }

    func testBrokerGoneFailsClearlyThenRerunCompletes() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-broker-gone")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 400, krakenFrames: 80)
        let cluster = try makeCluster(leader: 1)
        let process = try ReplayProcess.start(replayArguments(directory, cluster, ["--rate", "400", "-X", "message.timeout.ms=2000"]),
                                              logIn: directory, name: "run")
        try waitUntilProducing(cluster)
        try cluster.setBrokerDown(1)
        process.waitUntilExit()
        let stderr = try String(contentsOf: directory.appendingPathComponent("run.err"), encoding: .utf8)
        XCTAssertEqual(process.terminationStatus, 1, stderr)
        XCTAssertTrue(stderr.contains("were not delivered; first error:"), stderr)

        try cluster.setBrokerUp(1)
        let rerun = try ReplayProcess.run(replayArguments(directory, cluster, ["--quiet"]))
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        try assertExactlyOnce(cluster, fixture)
    }

    func testSIGKILLAtRandomPointsThenRerunLeavesEachRecordOnce() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        // About 3,300 messages at 1,000/s: the five kills below take at most 5 × 0.4 s of it, so each one lands
        // on a replay that is still producing (asserted), not on a finished process.
        // With K2_TORTURE=1, 50 kills: ten times the messages, so the last kill still lands mid-replay.
        let kills = TestEnvironment.killRounds(5)
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 1500 * kills / 5, krakenFrames: 100 * kills / 5)
        let cluster = try makeCluster()
        let delays = try ReplayProcess.killAtRandomPoints(
            kills, replayArguments(directory, cluster, ["--rate", "1000", "--checkpoint-interval", "0.1"]), logIn: directory,
            afterDelivering: 1, maxDelay: 400_000, mustBeRunning: true) { try waitForBinanceMessages(cluster, atLeast: 0) }
        let final = try ReplayProcess.run(replayArguments(directory, cluster, ["--json", "--quiet"]))
        XCTAssertEqual(final.status, 0, "kill delays \(delays) µs: \(final.stderrText)")
        let summary = try JSONSerialization.jsonObject(with: final.stdout) as! [String: Any]
        XCTAssertGreaterThan(summary["skipped_already_in_kafka"] as? Int ?? 0, 0, "the killed runs delivered something")
        try assertExactlyOnce(cluster, fixture)
    }

    func testSIGKILLDuringUnpacedReplayThenRerunLeavesEachRecordOnce() throws {
        // Unpaced, the log is read and encoded on one thread and produced on another (batches of 2048):
        // a kill leaves batches encoded but not produced, produced but not acknowledged, and acknowledged
        // after the last checkpoint write.
        let directory = try TestEnvironment.temporaryDirectory("replay-kill-unpaced")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 12_000, krakenFrames: 200)
        let cluster = try makeCluster()
        let delays = try ReplayProcess.killAtRandomPoints(
            2, replayArguments(directory, cluster, ["--checkpoint-interval", "0.05"]), logIn: directory,
            afterDelivering: 1000, maxDelay: 150_000, mustBeRunning: false) { try waitForBinanceMessages(cluster, atLeast: 0) }
        let final = try ReplayProcess.run(replayArguments(directory, cluster, ["--json", "--quiet"]))
        XCTAssertEqual(final.status, 0, "kill delays \(delays) µs: \(final.stderrText)")
        let summary = try JSONSerialization.jsonObject(with: final.stdout) as! [String: Any]
        XCTAssertGreaterThan(summary["skipped_already_in_kafka"] as? Int ?? 0, 0, "the killed runs delivered something")
        XCTAssertEqual((summary["skipped_already_in_kafka"] as? Int ?? 0) + (summary["produced"] as? Int ?? 0), fixture.expected.count)
        try assertExactlyOnce(cluster, fixture)
    }

    func testKillBetweenProduceAndCheckpointThenRerunLeavesEachRecordOnce() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-kill-nockpt")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 400, krakenFrames: 100)
        let cluster = try makeCluster()
        // The checkpoint is written before the first produce and then not for an hour: every delivery of this
        // run happens after the last checkpoint write.
        let process = try ReplayProcess.start(replayArguments(directory, cluster, ["--rate", "1500", "--checkpoint-interval", "3600"]),
                                              logIn: directory, name: "run")
        let seen = try waitForBinanceMessages(cluster, atLeast: 200, while: process)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        XCTAssertGreaterThanOrEqual(seen, 200)
        let path = try checkpointPath(directory)
        // Written before the first produce and when each (partition, stream) got its first message, not since.
        XCTAssertLessThan(try checkpointDelivered(path).reduce(0, +), Int(seen) / 2, "killed long after the last checkpoint write")

        let rerun = try ReplayProcess.run(replayArguments(directory, cluster, ["--json", "--quiet"]))
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        let summary = try JSONSerialization.jsonObject(with: rerun.stdout) as! [String: Any]
        XCTAssertGreaterThanOrEqual(summary["skipped_already_in_kafka"] as? Int ?? 0, Int(seen), "found by content in the tails")
        XCTAssertEqual((summary["skipped_already_in_kafka"] as? Int ?? 0) + (summary["produced"] as? Int ?? 0), fixture.expected.count)
        try assertExactlyOnce(cluster, fixture)
        // The final checkpoint counts everything; a further rerun produces nothing.
        XCTAssertEqual(try checkpointDelivered(path).reduce(0, +), fixture.expected.count)
        let again = try ReplayProcess.run(replayArguments(directory, cluster, ["--json", "--quiet"]))
        XCTAssertEqual(again.status, 0, again.stderrText)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: again.stdout) as! [String: Any])["produced"] as? Int, 0)
        try assertExactlyOnce(cluster, fixture)
    }

    func testOtherProducersMessagesInterleavedDoNotBreakTheResume() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-foreign")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 400, krakenFrames: 100)
        let cluster = try makeCluster()
        try produceForeign(cluster, count: 50, from: 0)   // before the replay: below its start offsets
        let process = try ReplayProcess.start(replayArguments(directory, cluster, ["--rate", "500", "--checkpoint-interval", "3600"]),
                                              logIn: directory, name: "run")
        try waitForBinanceMessages(cluster, atLeast: 50 + 100, while: process)
        // While the replay produces, another producer writes into the same partitions.
        var foreign = 50
        for _ in 0..<5 {
            try produceForeign(cluster, count: 20, from: foreign)
            foreign += 20
            usleep(20_000)
        }
        XCTAssertTrue(process.isRunning, "killed mid-replay")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try produceForeign(cluster, count: 30, from: foreign)   // between the runs
        foreign += 30

        let rerun = try ReplayProcess.run(replayArguments(directory, cluster, ["--json", "--quiet"]))
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        let summary = try JSONSerialization.jsonObject(with: rerun.stdout) as! [String: Any]
        XCTAssertGreaterThanOrEqual(summary["skipped_already_in_kafka"] as? Int ?? 0, 100)
        try assertExactlyOnce(cluster, fixture, foreign: foreign)
    }

    func testCorruptCheckpointFailsNamingTheFileAndLosesNothing() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-corrupt")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 300, krakenFrames: 60)
        let cluster = try makeCluster()
        let process = try ReplayProcess.start(replayArguments(directory, cluster, ["--rate", "1500", "--checkpoint-interval", "0.1"]),
                                              logIn: directory, name: "run")
        try waitForBinanceMessages(cluster, atLeast: 150, while: process)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let path = try checkpointPath(directory)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let before = try waitForBinanceMessages(cluster, atLeast: 0)

        let garbage = Data(good.prefix(good.count / 2))   // a torn file: not valid JSON
        try garbage.write(to: URL(fileURLWithPath: path))
        let refused = try ReplayProcess.run(replayArguments(directory, cluster, ["--quiet"]))
        XCTAssertEqual(refused.status, 2, refused.stderrText)
        XCTAssertTrue(refused.stderrText.contains("checkpoint \(path)"), refused.stderrText)
        XCTAssertTrue(refused.stderrText.contains("not a valid k2-replay checkpoint"), refused.stderrText)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), garbage, "the file is left as it was")
        XCTAssertEqual(try waitForBinanceMessages(cluster, atLeast: 0), before, "nothing produced")

        try good.write(to: URL(fileURLWithPath: path))
        let rerun = try ReplayProcess.run(replayArguments(directory, cluster, ["--quiet"]))
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        try assertExactlyOnce(cluster, fixture)
    }

    /// Binance trade frames for `symbol`, trade ids from `firstId`, at the given receive times (one record each).
    private func appendTrades(_ writer: SegmentLogWriter, symbol: String, firstId: Int64, times: [Int64]) throws {
        for (index, time) in times.enumerated() {
            let id = firstId + Int64(index)
            let frame = #"{"stream":"\#(symbol.lowercased())@trade","data":{"e":"trade","E":\#(time / 1_000_000),"s":"\#(symbol)","t":\#(id),"p":"\#(100 + index).5","q":"0.\#(index + 1)","T":\#(time / 1_000_000 - 3),"m":true,"M":true}}"#
            try writer.append(LogRecord(receiveTimeNanos: time, source: "binance", stream: symbol.lowercased() + "@trade",
                                        payload: Array(frame.utf8)))
        }
    }

    /// A log still being written (k2-capture, no --until): between two runs, a stream's block with records
    /// older than another stream's last replayed ones is flushed. The rerun's time-merge then places them
    /// before messages already sent, in the same partition; progress per (partition, stream) still skips
    /// exactly what was delivered and produces exactly the rest, each stream in order.
    func testGrowingLogRecordsMergedBeforeSentOnesAreEachReplayedOnce() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-growing")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try makeCluster()
        try cluster.createTopic("replay.growing", partitions: 1)   // both streams in one partition
        let base = ReplayFixture.baseNanos
        let ms: Int64 = 1_000_000
        // First capture flush: BTCUSDT up to 120 ms, ETHUSDT up to 240 ms.
        var writer = try SegmentLogWriter(directory: directory.path, diagnostics: { _ in })
        try appendTrades(writer, symbol: "BTCUSDT", firstId: 1, times: (0..<60).map { base + Int64($0) * 2 * ms })
        try appendTrades(writer, symbol: "ETHUSDT", firstId: 1, times: (0..<120).map { base + Int64($0) * 2 * ms + ms })
        try writer.close()
        let arguments = ["--from", directory.path, "--bootstrap", cluster.bootstrap, "--schema-id", "1", "--topic", "replay.growing",
                         "--state-dir", directory.appendingPathComponent("state").path, "--json", "--quiet"]
        let first = try ReplayProcess.run(arguments + ["--max"])
        XCTAssertEqual(first.status, 0, first.stderrText)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: first.stdout) as! [String: Any])["produced"] as? Int, 180)

        // Second flush (a later writer session): BTCUSDT 120...298 ms, interleaved with ETHUSDT's replayed
        // 121...239 ms, and ETHUSDT 241...299 ms.
        writer = try SegmentLogWriter(directory: directory.path, diagnostics: { _ in })
        try appendTrades(writer, symbol: "BTCUSDT", firstId: 61, times: (60..<150).map { base + Int64($0) * 2 * ms })
        try appendTrades(writer, symbol: "ETHUSDT", firstId: 121, times: (120..<150).map { base + Int64($0) * 2 * ms + ms })
        try writer.close()
        let second = try ReplayProcess.run(arguments)
        XCTAssertEqual(second.status, 0, second.stderrText)
        let summary = try JSONSerialization.jsonObject(with: second.stdout) as! [String: Any]
        XCTAssertEqual(summary["skipped_already_in_kafka"] as? Int, 180, second.stderrText)
        XCTAssertEqual(summary["produced"] as? Int, 120, second.stderrText)

        let consumed = try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: ["replay.growing"])
        XCTAssertEqual(consumed.count, 300)
        XCTAssertEqual(Set(consumed.map(\.content)).count, 300, "each record once (by key and value bytes)")
        for (symbol, offset) in [("BTCUSDT", Int64(0)), ("ETHUSDT", ms)] {
            let times = consumed.filter { $0.key == Array(symbol.utf8) }.map(\.timestampMs)
            XCTAssertEqual(times, (0..<150).map { (base + Int64($0) * 2 * ms + offset) / ms }, "\(symbol): every trade, in order")
        }
    }

    /// The same with a kill: the killed run's messages after its checkpoint are in the partition's tail in
    /// its interleaving (BTCUSDT's first records, then ETHUSDT's), the rerun's merge puts BTCUSDT's newly
    /// flushed records between ETHUSDT's. Each stream finds its own messages in the tail, in order.
    func testGrowingLogAfterAKillIsMatchedPerStream() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-growing-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try makeCluster()
        try cluster.createTopic("replay.growing", partitions: 1)
        let base = ReplayFixture.baseNanos
        let ms: Int64 = 1_000_000
        var writer = try SegmentLogWriter(directory: directory.path, diagnostics: { _ in })
        try appendTrades(writer, symbol: "BTCUSDT", firstId: 1, times: (0..<60).map { base + Int64($0) * 2 * ms })
        try appendTrades(writer, symbol: "ETHUSDT", firstId: 1, times: (0..<600).map { base + Int64($0) * 2 * ms + ms })
        try writer.close()
        let arguments = ["--from", directory.path, "--bootstrap", cluster.bootstrap, "--schema-id", "1", "--topic", "replay.growing",
                         "--state-dir", directory.appendingPathComponent("state").path]
        let process = try ReplayProcess.start(arguments + ["--rate", "500", "--checkpoint-interval", "3600"], logIn: directory, name: "run")
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let consumer = try KafkaConsumer(config: config)
        for _ in 0..<600 {
            if try consumer.watermarks(topic: "replay.growing", partition: 0).high >= 250 { break }
            usleep(20_000)
        }
        XCTAssertTrue(process.isRunning, "killed mid-replay")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let killedAt = try consumer.watermarks(topic: "replay.growing", partition: 0).high
        XCTAssertGreaterThanOrEqual(killedAt, 250)
        XCTAssertLessThan(killedAt, 660)

        writer = try SegmentLogWriter(directory: directory.path, diagnostics: { _ in })
        try appendTrades(writer, symbol: "BTCUSDT", firstId: 61, times: (60..<600).map { base + Int64($0) * 2 * ms })
        try writer.close()
        let rerun = try ReplayProcess.run(arguments + ["--json", "--quiet"])
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        let summary = try JSONSerialization.jsonObject(with: rerun.stdout) as! [String: Any]
        XCTAssertEqual(summary["skipped_already_in_kafka"] as? Int, Int(killedAt), rerun.stderrText)
        let consumed = try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: ["replay.growing"])
        XCTAssertEqual(consumed.count, 1200)
        XCTAssertEqual(Set(consumed.map(\.content)).count, 1200, "each record once (by key and value bytes)")
        for (symbol, offset) in [("BTCUSDT", Int64(0)), ("ETHUSDT", ms)] {
            let times = consumed.filter { $0.key == Array(symbol.utf8) }.map(\.timestampMs)
            XCTAssertEqual(times, (0..<600).map { (base + Int64($0) * 2 * ms + offset) / ms }, "\(symbol): every trade, in order")
        }
    }

    /// A growing log that gains a stream of another exchange: the resumed run targets partitions the
    /// checkpoint did not have. They (and each new stream's place in them) are written to the checkpoint
    /// before the first message goes there, so a run killed before any periodic checkpoint write leaves
    /// nothing the next run cannot find.
    func testPartitionsAddedOnResumeAreCheckpointedBeforeProducing() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-added")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cluster = try makeCluster()
        let base = ReplayFixture.baseNanos
        let ms: Int64 = 1_000_000
        var writer = try SegmentLogWriter(directory: directory.path, diagnostics: { _ in })
        try appendTrades(writer, symbol: "BTCUSDT", firstId: 1, times: (0..<50).map { base + Int64($0) * ms })
        try writer.close()
        let first = try ReplayProcess.run(replayArguments(directory, cluster, ["--quiet"]))
        XCTAssertEqual(first.status, 0, first.stderrText)

        // Later: Kraken too.
        writer = try SegmentLogWriter(directory: directory.path, diagnostics: { _ in })
        try appendTrades(writer, symbol: "BTCUSDT", firstId: 51, times: (50..<1000).map { base + Int64($0) * ms })
        for index in 0..<1000 {
            let frame = #"[336,[["\#(5000 + index).10000","0.\#(String(format: "%08d", index + 1))","\#(1_707_472_800 + index).000007","b","l",""]],"trade","XBT/USD"]"#
            try writer.append(LogRecord(receiveTimeNanos: base + Int64(50 + index) * ms + 500_000, source: "kraken", stream: "XBT/USD",
                                        payload: Array(frame.utf8)))
        }
        try writer.close()
        let process = try ReplayProcess.start(replayArguments(directory, cluster, ["--rate", "400", "--checkpoint-interval", "3600"]),
                                              logIn: directory, name: "run")
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let consumer = try KafkaConsumer(config: config)
        let krakenPartition = K2Partitioner.partition(key: "XBT/USD", partitionCount: 6)!
        for _ in 0..<600 {
            if try consumer.watermarks(topic: "market.crypto.trades.kraken.raw", partition: krakenPartition).high >= 100 { break }
            usleep(50_000)
        }
        XCTAssertTrue(process.isRunning, "killed mid-replay")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let killedAt = try consumer.watermarks(topic: "market.crypto.trades.kraken.raw", partition: krakenPartition).high
        XCTAssertGreaterThanOrEqual(killedAt, 100)
        XCTAssertLessThan(killedAt, 1000)

        let rerun = try ReplayProcess.run(replayArguments(directory, cluster, ["--json", "--quiet"]))
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        let summary = try JSONSerialization.jsonObject(with: rerun.stdout) as! [String: Any]
        XCTAssertGreaterThanOrEqual(summary["skipped_already_in_kafka"] as? Int ?? 0, 50 + Int(killedAt))
        let consumed = try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: topics)
        let binance = consumed.filter { $0.topic == "market.crypto.trades.binance.raw" }
        let kraken = consumed.filter { $0.topic == "market.crypto.trades.kraken.raw" }
        XCTAssertEqual(binance.count, 1000)
        XCTAssertEqual(kraken.count, 1000)
        XCTAssertEqual(Set(consumed.map(\.content)).count, 2000, "each record once")
        XCTAssertEqual(kraken.map(\.timestampMs), (0..<1000).map { (base + Int64(50 + $0) * ms + 500_000) / ms }, "in log order")
    }

    /// A log wiped and captured again at the same path, or a partition that no longer holds this replay's
    /// last message where the checkpoint says: the rerun stops before producing (exit 2), naming the
    /// checkpoint and the partition, instead of skipping by progress that no longer applies.
    func testLogOrTopicNotTheCheckpointsOnesIsRefused() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-changed")
        defer { try? FileManager.default.removeItem(at: directory) }
        let logDirectory = directory.appendingPathComponent("log")
        let fixture = try ReplayFixture.write(to: logDirectory.path, binanceTrades: 300, krakenFrames: 60)
        let cluster = try makeCluster()
        let arguments = ["--from", logDirectory.path, "--bootstrap", cluster.bootstrap, "--schema-id", "binance=11,kraken=12",
                         "--state-dir", directory.appendingPathComponent("state").path, "--quiet"]
        let first = try ReplayProcess.run(arguments)
        XCTAssertEqual(first.status, 0, first.stderrText)
        let path = try checkpointPath(directory)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))
        let before = try waitForBinanceMessages(cluster, atLeast: 0)

        // Re-captured: a shorter log at the same path.
        try FileManager.default.removeItem(at: logDirectory)
        _ = try ReplayFixture.write(to: logDirectory.path, binanceTrades: 100, krakenFrames: 20)
        let recaptured = try ReplayProcess.run(arguments)
        XCTAssertEqual(recaptured.status, 2, recaptured.stderrText)
        XCTAssertTrue(recaptured.stderrText.contains("checkpoint \(path): the log no longer holds"), recaptured.stderrText)
        XCTAssertTrue(recaptured.stderrText.contains("market.crypto.trades."), recaptured.stderrText)
        XCTAssertEqual(try waitForBinanceMessages(cluster, atLeast: 0), before, "nothing produced")

        // The original log back; the checkpoint's last message of a partition moved to an offset holding
        // another message (what a re-created and refilled topic shows).
        try FileManager.default.removeItem(at: logDirectory)
        _ = try ReplayFixture.write(to: logDirectory.path, binanceTrades: 300, krakenFrames: 60)
        var object = try JSONSerialization.jsonObject(with: good) as! [String: Any]
        var partitions = object["partitions"] as! [[String: Any]]
        let moved = partitions.firstIndex { ($0["last"] as? [String: Any]).map { ($0["offset"] as! Int) > 0 } ?? false }!
        var last = partitions[moved]["last"] as! [String: Any]
        last["offset"] = (last["offset"] as! Int) - 1
        partitions[moved]["last"] = last
        object["partitions"] = partitions
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: path))
        let refilled = try ReplayProcess.run(arguments)
        XCTAssertEqual(refilled.status, 2, refilled.stderrText)
        let target = "\(partitions[moved]["topic"] as! String) [\(partitions[moved]["partition"] as! Int)] offset \(last["offset"] as! Int)"
        XCTAssertTrue(refilled.stderrText.contains("checkpoint \(path): \(target) does not hold the message"), refilled.stderrText)
        XCTAssertEqual(try waitForBinanceMessages(cluster, atLeast: 0), before, "nothing produced")

        try good.write(to: URL(fileURLWithPath: path))
        let rerun = try ReplayProcess.run(arguments)
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        try assertExactlyOnce(cluster, fixture)
    }

    /// Two runs of one replay at once would both resume from the same point: the second stops (exit 2) on
    /// the replay's lock; the lock dies with the process holding it.
    func testSecondRunOfTheSameReplayIsRefusedWhileTheFirstRuns() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-lock")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 300, krakenFrames: 60)
        let cluster = try makeCluster()
        let process = try ReplayProcess.start(replayArguments(directory, cluster, ["--rate", "200"]), logIn: directory, name: "run")
        try waitUntilProducing(cluster)
        let second = try ReplayProcess.run(replayArguments(directory, cluster, ["--quiet"]))
        XCTAssertTrue(process.isRunning)
        XCTAssertEqual(second.status, 2, second.stderrText)
        XCTAssertTrue(second.stderrText.contains("another k2-replay is running this replay"), second.stderrText)
        XCTAssertTrue(second.stderrText.contains("checkpoint \(try checkpointPath(directory))"), second.stderrText)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let rerun = try ReplayProcess.run(replayArguments(directory, cluster, ["--quiet"]))
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        try assertExactlyOnce(cluster, fixture)
    }

    /// `-X` may not weaken what resume relies on: refused (exit 2) before anything is produced.
    func testDeliverySettingsResumeReliesOnCannotBeOverridden() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-unsafe")
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try ReplayFixture.write(to: directory.path, binanceTrades: 20, krakenFrames: 4)
        let cluster = try makeCluster()
        for setting in ["enable.idempotence=false", "acks=1", "request.required.acks=0", "enable.gapless.guarantee=false",
                        "max.in.flight=20", "queuing.strategy=lifo"] {
            let result = try ReplayProcess.run(replayArguments(directory, cluster, ["--quiet", "-X", setting]))
            XCTAssertEqual(result.status, 2, "\(setting): \(result.stderrText)")
            XCTAssertTrue(result.stderrText.contains("-X \(setting) is refused with --to kafka"), result.stderrText)
        }
        XCTAssertEqual(try waitForBinanceMessages(cluster, atLeast: 0), 0, "nothing produced")
        let allowed = try ReplayProcess.run(replayArguments(directory, cluster, ["--quiet", "-X", "acks=all", "-X", "max.in.flight=5"]))
        XCTAssertEqual(allowed.status, 0, allowed.stderrText)
    }

    func testEmbeddedKafkaSubcommandServesUntilSIGTERM() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ReplayProcess.path)
        let port = try LocalPort.free()
        process.arguments = ["embedded-kafka", "--brokers", "2", "--topic-partitions", "3", "--topics", "a.topic,b.topic", "--port", String(port)]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var output = Data()
        while !output.contains(0x0A) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            output.append(chunk)
        }
        let line = String(decoding: output, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        XCTAssertTrue(line.hasPrefix("bootstrap="), line)
        let bootstrap = String(line.dropFirst("bootstrap=".count))
        XCTAssertEqual(bootstrap.split(separator: ",").count, 3, "localhost:PORT first, then the two brokers")
        XCTAssertTrue(bootstrap.hasPrefix("localhost:\(port),"), bootstrap)
        let metadata = try ProcessRunner.run("/usr/bin/kcat", ["-L", "-b", bootstrap, "-t", "b.topic"])
        XCTAssertEqual(metadata.status, 0, metadata.stderrText)
        XCTAssertTrue(metadata.stdoutText.contains("topic \"b.topic\" with 3 partitions"), metadata.stdoutText)
        // Every thread is up by now (the cluster's, the forwarder's): SIGTERM must still end the process, promptly.
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTFail("embedded-kafka kept serving 5 s after SIGTERM")
            return
        }
        XCTAssertEqual(process.terminationStatus, 0)
        XCTAssertNotEqual(try ProcessRunner.run("/usr/bin/kcat", ["-L", "-b", bootstrap, "-m", "2"]).status, 0, "nothing serves after the exit")
    }

    /// The mock cluster answers requests with retriable errors: Metadata and ListOffsets at start-up (the
    /// replay's reads of partition tails), and Produce requests again and again while it produces (not leader,
    /// timed out, not enough replicas before and after the append). librdkafka 2.0.2 against its own mock then
    /// sometimes reports messages delivered that the mock never appended (1-13 of 1,440 in about one run of
    /// three; `ProducerRequestErrorTests` shows the same with a bare producer). The replay must never pass such a
    /// loss as a success: it ends with every message once (exit 0), or names the partitions that are short (exit 1).
    func testKafkaRequestErrorsDuringReplayLoseAndDuplicateNothing() throws {
        let directory = try TestEnvironment.temporaryDirectory("replay-request-errors")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 600, krakenFrames: 100)
        let cluster = try makeCluster()
        cluster.pushRequestErrors(apiKey: 3, errors: [5, 7])      // Metadata: LEADER_NOT_AVAILABLE, REQUEST_TIMED_OUT
        cluster.pushRequestErrors(apiKey: 2, errors: [6, 7, 5])   // ListOffsets: NOT_LEADER_OR_FOLLOWER, ...
        let process = try ReplayProcess.start(replayArguments(directory, cluster, ["--rate", "800"]), logIn: directory, name: "run")
        try waitUntilProducing(cluster)
        for _ in 0..<8 where process.isRunning {
            cluster.pushRequestErrors(apiKey: 0, errors: [6, 7, 19, 20])   // Produce: ..., NOT_ENOUGH_REPLICAS(_AFTER_APPEND)
            usleep(150_000)
        }
        process.waitUntilExit()
        let stderr = try String(contentsOf: directory.appendingPathComponent("run.err"), encoding: .utf8)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let consumer = try KafkaConsumer(config: config)
        var inTopics: Int64 = 0
        for (topic, partitions) in [("market.crypto.trades.binance.raw", Int32(6)), ("market.crypto.trades.kraken.raw", 6), ("orders", 2)] {
            for partition in 0..<partitions { inTopics += try consumer.watermarks(topic: topic, partition: partition).high }
        }
        if process.terminationStatus == 0 {
            XCTAssertEqual(inTopics, Int64(fixture.expected.count), "exit 0: every message in the topics (high watermarks)")
            try assertExactlyOnce(cluster, fixture)
        } else {
            XCTAssertEqual(process.terminationStatus, 1, stderr)
            XCTAssertTrue(stderr.contains("the broker acknowledged messages that are not in Kafka"), stderr)
            XCTAssertLessThan(inTopics, Int64(fixture.expected.count), "a loss was reported: the topics hold fewer than were sent")
        }
    }
}
