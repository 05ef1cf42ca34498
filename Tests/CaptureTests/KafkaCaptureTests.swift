import Foundation
import Kafka
import SegmentLog
import TestSupport
import XCTest

/// `k2-capture kafka` against the embedded Kafka: records produced by kcat (keys, headers, CreateTime timestamps)
/// are in the log exactly, per partition and offset, as kcat itself reads them back.
final class KafkaCaptureTests: XCTestCase {
    func testKcatRecordsCapturedExactlyPerPartitionAndOffset() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("backup", partitions: 3, replicationFactor: 1)
        for partition in 0..<3 {
            var lines = ""
            for index in 0..<(5 + partition * 3) {
                lines += "key-\(partition)-\(index):{\"p\":\(partition),\"i\":\(index),\"text\":\"é ü\"}\n"
            }
            let produce = try ProcessRunner.run("/usr/bin/kcat", ["-P", "-b", cluster.bootstrap, "-t", "backup", "-p", "\(partition)",
                                                                  "-K:", "-H", "trace=t-\(partition)", "-H", "origin=kcat"],
                                                stdin: Data(lines.utf8))
            XCTAssertEqual(produce.status, 0, produce.stderrText)
        }
        // kcat's own view of the topic: the reference.
        let consume = try ProcessRunner.run("/usr/bin/kcat", ["-C", "-b", cluster.bootstrap, "-t", "backup", "-e", "-q", "-J"])
        XCTAssertEqual(consume.status, 0, consume.stderrText)
        let expected = consume.stdoutText.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        XCTAssertEqual(expected.count, 5 + 8 + 11)

        let directory = try TestEnvironment.temporaryDirectory("capture-kafka")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try ProcessRunner.run(CaptureHarness.capturePath, [
            "kafka", "--bootstrap", cluster.bootstrap, "--topic", "backup", "--until-end", "--out", directory.path, "--json",
        ])
        XCTAssertEqual(result.status, 0, result.stderrText)
        let (records, statistics) = try CaptureHarness.readLog(directory)
        XCTAssertEqual(statistics.tornTails, 0)
        XCTAssertEqual(records.count, expected.count)
        var byPartition: [Int32: [LogRecord]] = [:]
        for record in records { byPartition[Int32(record.stream)!, default: []].append(record) }
        for want in expected {
            let partition = Int32(want["partition"] as! Int)
            let offset = Int64(want["offset"] as! Int)
            guard let record = byPartition[partition]?.first(where: { $0.kafka?.offset == offset }) else {
                XCTFail("partition \(partition) offset \(offset) missing"); continue
            }
            XCTAssertEqual(record.source, "kafka:backup")
            XCTAssertEqual(record.kind, .data)
            XCTAssertEqual(record.kafka?.partition, partition)
            XCTAssertEqual(record.kafka?.timestampMs, Int64(want["ts"] as! Int))
            XCTAssertEqual(record.kafka?.timestampType, want["tstype"] as? String == "create" ? 1 : 2)
            XCTAssertEqual(record.kafka?.key, Array((want["key"] as! String).utf8))
            XCTAssertEqual(record.payload, Array((want["payload"] as! String).utf8))
            let headers = want["headers"] as! [String]
            let pairs = stride(from: 0, to: headers.count, by: 2).map { KafkaHeader(name: headers[$0], value: Array(headers[$0 + 1].utf8)) }
            XCTAssertEqual(record.kafka?.headers, pairs)
        }
        // Offsets per partition in order, with sequence numbers 1, 2, 3, ...
        for (partition, list) in byPartition {
            XCTAssertEqual(list.compactMap { $0.kafka?.offset }, (0..<Int64(list.count)).map { $0 }, "partition \(partition)")
            XCTAssertEqual(list.map(\.sequence), (1...UInt64(list.count)).map { $0 })
        }

        // A subset: one partition from offset 2, until its end.
        let subset = directory.appendingPathComponent("subset")
        let partial = try ProcessRunner.run(CaptureHarness.capturePath, [
            "kafka", "--bootstrap", cluster.bootstrap, "--topic", "backup", "--partitions", "1", "--from-offset", "2",
            "--until-end", "--out", subset.path,
        ])
        XCTAssertEqual(partial.status, 0, partial.stderrText)
        let partialRecords = try CaptureHarness.readLog(subset).records
        XCTAssertEqual(partialRecords.compactMap { $0.kafka?.offset }, Array(2..<8))
        XCTAssertTrue(partialRecords.allSatisfy { $0.stream == "1" })
    }

    /// Started again on the same directory, the capture continues after the last offset the log kept:
    /// stopped by --max-messages, killed with SIGKILL (at a random moment, several times), then run to the
    /// end, the log holds every offset of every partition exactly once, in order.
    func testRestartedCaptureContinuesAfterTheLastOffsetKept() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("resume", partitions: 3, replicationFactor: 1)
        let perPartition = 3000
        for partition in 0..<3 {
            let lines = (0..<perPartition).map { "k\($0 % 7):value-\(partition)-\($0)-" + String(repeating: "x", count: $0 % 50) }
                .joined(separator: "\n") + "\n"
            let produce = try ProcessRunner.run("/usr/bin/kcat", ["-P", "-b", cluster.bootstrap, "-t", "resume", "-p", "\(partition)", "-K:"],
                                                stdin: Data(lines.utf8))
            XCTAssertEqual(produce.status, 0, produce.stderrText)
        }
        let directory = try TestEnvironment.temporaryDirectory("capture-kafka-resume")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log")
        let arguments = ["kafka", "--bootstrap", cluster.bootstrap, "--topic", "resume", "--out", log.path]

        let first = try ProcessRunner.run(CaptureHarness.capturePath, arguments + ["--max-messages", "500"])
        XCTAssertEqual(first.status, 0, first.stderrText)
        XCTAssertEqual(try CaptureHarness.readLog(log).records.count, 500)

        for round in 0..<TestEnvironment.killRounds(3) {
            let running = try BackgroundProcess(CaptureHarness.capturePath, arguments + ["--fsync", "never"], directory: directory)
            Thread.sleep(forTimeInterval: Double.random(in: 0.05...0.6))
            kill(running.process.processIdentifier, SIGKILL)
            _ = running.wait()
            XCTAssertEqual(running.process.terminationReason, .uncaughtSignal, "round \(round): \(running.stderr)")
        }

        let last = try ProcessRunner.run(CaptureHarness.capturePath, arguments + ["--until-end"])
        XCTAssertEqual(last.status, 0, last.stderrText)
        XCTAssertTrue(last.stderrText.contains("\"resume\""), last.stderrText)
        let records = try CaptureHarness.readLog(log).records
        for partition in 0..<3 {
            let mine = records.filter { $0.stream == String(partition) }
            XCTAssertEqual(mine.compactMap { $0.kafka?.offset }, (0..<Int64(perPartition)).map { $0 }, "partition \(partition)")
            XCTAssertEqual(mine.map { String(decoding: $0.payload, as: UTF8.self) },
                           (0..<perPartition).map { "value-\(partition)-\($0)-" + String(repeating: "x", count: $0 % 50) })
            XCTAssertEqual(mine.map(\.sequence), (1...UInt64(perPartition)).map { $0 }, "partition \(partition)")
        }
    }
}
