import Foundation
import Kafka
import TestSupport
import XCTest

/// `TimestampOffsetLookup` finds the first offset at or after a time on the embedded (mock) cluster, whose
/// ListOffsets answers the end offset for any time: the lookup notices and scans, and says so.
final class TimestampOffsetLookupTests: XCTestCase {
    func testFindsTheFirstOffsetAtOrAfterATimeWhereTheBrokerDoesNotIndexTimestamps() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("timed", partitions: 3, replicationFactor: 1)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        // Partition 0: 50 records one second apart; partition 1: 10 records all before the time; partition 2: empty.
        let base: Int64 = 1_707_472_800_000
        for index in 0..<50 {
            try producer.produce(topic: "timed", partition: 0, key: nil, value: Array("v\(index)".utf8), timestampMs: base + Int64(index) * 1000)
        }
        for index in 0..<10 {
            try producer.produce(topic: "timed", partition: 1, key: nil, value: Array("w\(index)".utf8), timestampMs: base - 60_000 + Int64(index))
        }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))
        XCTAssertEqual(producer.deliveredCount, 60)

        var notes: [String] = []
        let found = try TimestampOffsetLookup.firstOffsets(atOrAfter: base + 20_500, topic: "timed", partitions: [0, 1, 2],
                                                           config: config) { notes.append($0) }
        XCTAssertEqual(found[0], .some(21), "first record at or after base+20.5 s is offset 21 (base+21 s)")
        XCTAssertEqual(found[1], .some(nil), "every record of partition 1 is older")
        XCTAssertEqual(found[2], .some(nil), "partition 2 is empty")
        XCTAssertTrue(notes.contains { $0.contains("timed [0]") && $0.contains("scanned") }, "\(notes)")

        // An exact hit and a time before everything.
        let exact = try TimestampOffsetLookup.firstOffsets(atOrAfter: base + 7000, topic: "timed", partitions: [0], config: config)
        XCTAssertEqual(exact[0], .some(7))
        let early = try TimestampOffsetLookup.firstOffsets(atOrAfter: 0, topic: "timed", partitions: [0, 1], config: config)
        XCTAssertEqual(early[0], .some(0))
        XCTAssertEqual(early[1], .some(0))
    }
}

/// `BootstrapForwarder`: a client bootstrapping through a fixed port reaches the embedded cluster.
final class BootstrapForwarderTests: XCTestCase {
    func testClientsBootstrapThroughAFixedPort() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("forwarded", partitions: 2, replicationFactor: 1)
        let port = try LocalPort.free()
        let forwarder = try BootstrapForwarder(port: port, target: String(cluster.bootstrap.split(separator: ",")[0]))
        defer { forwarder.stop() }
        var config = KafkaConfig()
        config.set("bootstrap.servers", "localhost:\(port)")
        let producer = try KafkaProducer(config: config)
        for index in 0..<20 {
            try producer.produce(topic: "forwarded", partition: Int32(index % 2), key: nil, value: Array("m\(index)".utf8))
        }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))
        XCTAssertEqual(producer.deliveredCount, 20)
        // kcat, an independent client, through the same port.
        let kcat = try ProcessRunner.run("/usr/bin/kcat", ["-C", "-b", "127.0.0.1:\(port)", "-t", "forwarded", "-e", "-q", "-f", "%s\\n"])
        XCTAssertEqual(kcat.status, 0, kcat.stderrText)
        XCTAssertEqual(Set(kcat.stdoutText.split(separator: "\n").map(String.init)), Set((0..<20).map { "m\($0)" }))
        // A second forwarder on the same port is refused with a message naming it.
        XCTAssertThrowsError(try BootstrapForwarder(port: port, target: cluster.bootstrap)) { error in
            XCTAssertTrue("\(error)".contains("127.0.0.1:\(port)"), "\(error)")
        }
    }
}
