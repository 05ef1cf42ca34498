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
        ["--from", directory.path, "--bootstrap", cluster.bootstrap, "--schema-id", "binance=11,kraken=12"] + extra
    }

    /// Every expected message exactly once, per partition in log order (by provenance and by position).
    private func assertExactlyOnce(_ cluster: EmbeddedKafkaCluster, _ fixture: ReplayFixture, file: StaticString = #filePath, line: UInt = #line) throws {
        let consumed = try KafkaReadBack.kafkaPython(bootstrap: cluster.bootstrap, topics: topics)
        XCTAssertEqual(consumed.count, fixture.expected.count, "message count", file: file, line: line)
        let ids = consumed.compactMap(\.provenance)
        XCTAssertEqual(ids.count, consumed.count, "every message has provenance", file: file, line: line)
        XCTAssertEqual(Set(ids).count, ids.count, "duplicates: \(ids.count - Set(ids).count)", file: file, line: line)
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
            if let raw = want.rawValue { XCTAssertEqual(got[position].value, raw, file: file, line: line) }
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
            let process = try ReplayProcess.start(replayArguments(directory, cluster, ["--rate", "1500"]), logIn: directory,
                                                  name: "kill\(attempt)")
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
