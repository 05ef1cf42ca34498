import Bronze
import Foundation
import Kafka
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

    /// Per partition of the checkpoint: `delivered`.
    private func checkpointDelivered(_ path: String) throws -> [Int] {
        let object = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        return (object["partitions"] as! [[String: Any]]).map { $0["delivered"] as! Int }
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
        var byPartition: [String: [ConsumedMessage]] = [:]
        for message in consumed { byPartition["\(message.topic)/\(message.partition)", default: []].append(message) }
        var cursor: [String: Int] = [:]
        for want in fixture.expected {
            let partition = want.partition ?? K2Partitioner.partition(key: want.key, partitionCount: 6)!
            let slot = "\(want.topic)/\(partition)"
            let position = cursor[slot, default: 0]
            cursor[slot] = position + 1
            guard let got = byPartition[slot], position < got.count else {
                XCTFail("missing message #\(position) in \(slot)", file: file, line: line); return
            }
            XCTAssertEqual(got[position].key, want.key, file: file, line: line)
            XCTAssertEqual(got[position].timestampMs, want.timestampMs, "\(slot) #\(position)", file: file, line: line)
            if let raw = want.rawValue {
                XCTAssertEqual(got[position].value, raw, file: file, line: line)
                XCTAssertEqual(got[position].headers.map(\.0), want.headers.map(\.0), file: file, line: line)
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
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 400, krakenFrames: 100)
        let cluster = try makeCluster()
        var generator = SystemRandomNumberGenerator()
        var delays: [UInt32] = []
        for attempt in 0..<5 {
            let before = try waitForBinanceMessages(cluster, atLeast: 0)
            let process = try ReplayProcess.start(replayArguments(directory, cluster, ["--rate", "1500", "--checkpoint-interval", "0.1"]),
                                                  logIn: directory, name: "kill\(attempt)")
            // Kill at a random point after this run has delivered something, so a loaded machine (slow
            // start-up) cannot turn every kill into a kill before the first message.
            try waitForBinanceMessages(cluster, atLeast: before + 1, while: process)
            let delay = UInt32.random(in: 0...400_000, using: &generator)
            delays.append(delay)
            usleep(delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
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
        var generator = SystemRandomNumberGenerator()
        var delays: [UInt32] = []
        for attempt in 0..<2 {
            let before = try waitForBinanceMessages(cluster, atLeast: 0)
            let process = try ReplayProcess.start(replayArguments(directory, cluster, ["--checkpoint-interval", "0.05"]),
                                                  logIn: directory, name: "kill\(attempt)")
            try waitForBinanceMessages(cluster, atLeast: before + 1000, while: process)
            let delay = UInt32.random(in: 0...150_000, using: &generator)
            delays.append(delay)
            usleep(delay)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
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
        XCTAssertEqual(Set(try checkpointDelivered(path)), [0], "killed before any checkpoint after deliveries")

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

    func testEmbeddedKafkaSubcommandServesUntilSIGTERM() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ReplayProcess.path)
        process.arguments = ["embedded-kafka", "--brokers", "2", "--partitions", "3", "--topics", "a.topic,b.topic"]
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
        XCTAssertEqual(bootstrap.split(separator: ",").count, 2)
        let metadata = try ProcessRunner.run("/usr/bin/kcat", ["-L", "-b", bootstrap, "-t", "b.topic"])
        XCTAssertEqual(metadata.status, 0, metadata.stderrText)
        XCTAssertTrue(metadata.stdoutText.contains("topic \"b.topic\" with 3 partitions"), metadata.stdoutText)
        process.terminate()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }
}
