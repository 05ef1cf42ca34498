import Foundation
import Kafka
import SegmentLog
import TestSupport
import XCTest

/// `k2-capture kafka` while the embedded Kafka misbehaves (the mock cluster's own fault injection): requests
/// answered with errors, and the partitions' leader down for a while in the middle of the capture. Afterwards
/// the log holds every offset of every partition exactly once, in order, with the bytes produced.
final class KafkaCaptureFaultTests: XCTestCase {
    let topic = "faults"
    let partitions: Int32 = 3

    /// Values `value-<partition>-<index>-xxx...`: unique per offset, so a duplicate or a swap shows.
    private func value(_ partition: Int32, _ index: Int) -> String {
        "value-\(partition)-\(index)-" + String(repeating: "x", count: index % 40)
    }

    private func produce(_ cluster: EmbeddedKafkaCluster, _ range: Range<Int>) throws {
        for partition in 0..<partitions {
            let lines = range.map { "k\($0 % 5):" + value(partition, $0) }.joined(separator: "\n") + "\n"
            let run = try ProcessRunner.run("/usr/bin/kcat", ["-P", "-b", cluster.bootstrap, "-t", topic, "-p", "\(partition)", "-K:"],
                                            stdin: Data(lines.utf8))
            XCTAssertEqual(run.status, 0, run.stderrText)
        }
    }

    private func assertEachOffsetOnce(_ log: URL, perPartition: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let (records, statistics) = try CaptureHarness.readLog(log)
        XCTAssertEqual(statistics.tornTails, 0, file: file, line: line)
        XCTAssertEqual(records.count, Int(partitions) * perPartition, "records in the log", file: file, line: line)
        for partition in 0..<partitions {
            let mine = records.filter { $0.stream == String(partition) }
            XCTAssertEqual(mine.compactMap { $0.kafka?.offset }, (0..<Int64(perPartition)).map { $0 }, "offsets of partition \(partition)",
                           file: file, line: line)
            XCTAssertEqual(mine.map { String(decoding: $0.payload, as: UTF8.self) }, (0..<perPartition).map { value(partition, $0) },
                           "values of partition \(partition)", file: file, line: line)
        }
    }

    /// Waits for the capture to end, at most `seconds` (then kills it: a hang is a failure).
    private func waitForExit(_ capture: BackgroundProcess, seconds: Double = 120) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while capture.process.isRunning && Date() < deadline { usleep(50_000) }
        guard !capture.process.isRunning else {
            kill(capture.process.processIdentifier, SIGKILL)
            _ = capture.wait()
            return nil
        }
        return capture.wait()
    }

    /// Metadata, ListOffsets and Fetch requests answered with retriable errors (leader not available, not
    /// leader, timed out) at the start and again and again while the capture reads:
    /// librdkafka retries, and the capture neither skips nor repeats an offset.
    func testRequestErrorsDuringCaptureLoseAndDuplicateNothing() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        try cluster.createTopic(topic, partitions: partitions, replicationFactor: 3)
        try produce(cluster, 0..<1500)
        let directory = try TestEnvironment.temporaryDirectory("capture-kafka-errors")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log")

        cluster.pushRequestErrors(apiKey: 3, errors: [5, 5, 7])        // Metadata: LEADER_NOT_AVAILABLE, REQUEST_TIMED_OUT
        cluster.pushRequestErrors(apiKey: 2, errors: [6, 7, 5])        // ListOffsets: NOT_LEADER_OR_FOLLOWER, ...
        cluster.pushRequestErrors(apiKey: 1, errors: [6, 7, 5, 6, 7])  // Fetch
        let capture = try BackgroundProcess(CaptureHarness.capturePath, [
            "kafka", "--bootstrap", cluster.bootstrap, "--topic", topic, "--out", log.path, "--max-messages", "\(3 * 3000)", "--json",
        ], directory: directory)
        for _ in 0..<10 {
            usleep(150_000)
            cluster.pushRequestErrors(apiKey: 1, errors: [6, 7, 5])
        }
        try produce(cluster, 1500..<3000)
        let status = waitForExit(capture)
        XCTAssertEqual(status, 0, "exit (nil: still running after 120 s): \(capture.stderr.suffix(2000))")
        try assertEachOffsetOnce(log, perPartition: 3000)
    }

    /// The broker leading every partition goes down for two seconds at a random point of the capture
    /// (while it reads what is there, or while it waits for more), then comes back and more is produced.
    /// The capture waits it out; then a SIGKILL and a rerun to the end: each offset once.
    func testLeaderDownDuringCaptureThenKillAndRerunLoseAndDuplicateNothing() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        try cluster.createTopic(topic, partitions: partitions, replicationFactor: 3)
        for partition in 0..<partitions { try cluster.setPartitionLeader(topic: topic, partition: partition, brokerId: 1) }
        try produce(cluster, 0..<2000)
        let directory = try TestEnvironment.temporaryDirectory("capture-kafka-broker-down")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log")
        let arguments = ["kafka", "--bootstrap", cluster.bootstrap, "--topic", topic, "--out", log.path]

        let capture = try BackgroundProcess(CaptureHarness.capturePath, arguments + ["--max-messages", "\(3 * 3000)"], directory: directory)
        usleep(UInt32.random(in: 100_000...600_000))
        try cluster.setBrokerDown(1)
        usleep(2_000_000)
        XCTAssertTrue(capture.process.isRunning, "the capture waits for the broker: \(capture.stderr.suffix(1000))")
        try cluster.setBrokerUp(1)
        try produce(cluster, 2000..<3000)
        XCTAssertEqual(waitForExit(capture), 0, "exit (nil: still running after 120 s): \(capture.stderr.suffix(2000))")
        try assertEachOffsetOnce(log, perPartition: 3000)

        // Down again, killed while it waits, and a rerun to the end once the broker is back.
        try produce(cluster, 3000..<4000)
        let killed = try BackgroundProcess(CaptureHarness.capturePath, arguments + ["--fsync", "never"], directory: directory)
        usleep(UInt32.random(in: 50_000...400_000))
        try cluster.setBrokerDown(1)
        usleep(500_000)
        kill(killed.process.processIdentifier, SIGKILL)
        _ = killed.wait()
        try cluster.setBrokerUp(1)
        let rerun = try ProcessRunner.run(CaptureHarness.capturePath, arguments + ["--until-end"])
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        try assertEachOffsetOnce(log, perPartition: 4000)
    }

    /// The disk of the log fills up (a real ENOSPC, on a 1 MiB tmpfs) while the capture writes: it stops with
    /// exit 1 naming the error, and leaves no temporary file; once the disk has room, a rerun to the end
    /// holds every offset once. Skipped where this process may not mount a tmpfs.
    func testDiskFullDuringCaptureThenRerunLosesAndDuplicatesNothing() throws {
        guard let mount = try TestEnvironment.mountTmpfs(bytes: 1 << 20, "k2-capture-enospc") else {
            throw XCTSkip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
        }
        defer { TestEnvironment.unmountTmpfs(mount) }
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic(topic, partitions: partitions, replicationFactor: 1)
        // About 3 × 10,000 records of 30-70 bytes plus their headers, uncompressed: about 2 MiB.
        try produce(cluster, 0..<10_000)
        let log = mount.appendingPathComponent("log")
        let arguments = ["kafka", "--bootstrap", cluster.bootstrap, "--topic", topic, "--out", log.path, "--codec", "none", "--until-end"]
        let full = try ProcessRunner.run(CaptureHarness.capturePath, arguments)
        XCTAssertEqual(full.status, 1, full.stderrText)
        XCTAssertTrue(full.stderrText.contains("No space left on device"), full.stderrText)
        let left = try FileManager.default.contentsOfDirectory(atPath: log.path).filter { $0.hasSuffix(".tmp") }
        XCTAssertEqual(left, [], "temporary files after the failed run")

        try TestEnvironment.resizeTmpfs(mount, bytes: 64 << 20)
        let rerun = try ProcessRunner.run(CaptureHarness.capturePath, arguments)
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: log.path).filter { $0.hasSuffix(".tmp") }, [])
        try assertEachOffsetOnce(log, perPartition: 10_000)
    }
}
