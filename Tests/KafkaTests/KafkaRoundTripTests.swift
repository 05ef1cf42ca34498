import Foundation
import Kafka
import TestSupport
import XCTest

final class KafkaRoundTripTests: XCTestCase {
    /// Produces keyed records with headers and explicit timestamps, then reads them back three ways:
    /// our consumer, kcat and kafka-python 2.0.2.
    func testRoundTripReadByOurConsumerKcatAndKafkaPython() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        try cluster.createTopic("roundtrip", partitions: 4)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        var sent: [(partition: Int32, key: [UInt8], value: [UInt8], ts: Int64)] = []
        for index in 0..<200 {
            let partition = Int32(index % 4)
            let key = Array("key-\(index % 7)".utf8)
            var value = Array("value-\(index)-".utf8)
            value.append(contentsOf: [0x00, 0xFF, UInt8(index & 0xFF)])
            let ts = 1_707_472_723_000 + Int64(index)
            try producer.produce(topic: "roundtrip", partition: partition, key: key, value: value, timestampMs: ts,
                                 headers: [KafkaMessageHeader(name: "h1", value: Array("v\(index)".utf8)),
                                           KafkaMessageHeader(name: "nullh", value: nil)])
            sent.append((partition, key, value, ts))
        }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))
        XCTAssertEqual(producer.deliveredCount, 200)
        XCTAssertEqual(producer.failedCount, 0)
        XCTAssertNil(producer.firstError)

        // Our consumer: everything back, per partition in produce order.
        let consumer = try KafkaConsumer(config: config)
        try consumer.assign((0..<4).map { ("roundtrip", Int32($0), .beginning) })
        var received: [Int32: [KafkaMessage]] = [:]
        var ended = Set<Int32>()
        while ended.count < 4 {
            guard let event = try consumer.poll(timeoutMs: 10_000) else { XCTFail("consumer timed out"); return }
            switch event {
            case .message(let message): received[message.partition, default: []].append(message)
            case .endOfPartition(_, let partition, _): ended.insert(partition)
            }
        }
        for partition in Int32(0)..<4 {
            let expected = sent.filter { $0.partition == partition }
            let got = received[partition] ?? []
            XCTAssertEqual(got.count, expected.count)
            for (offset, (message, want)) in zip(got, expected).enumerated() {
                XCTAssertEqual(message.offset, Int64(offset))
                XCTAssertEqual(message.key, want.key)
                XCTAssertEqual(message.value, want.value)
                XCTAssertEqual(message.timestampMs, want.ts)
                XCTAssertEqual(message.timestampType, .createTime)
                XCTAssertEqual(message.headers.count, 2)
                XCTAssertEqual(message.header("nullh")?.value, nil)
                XCTAssertNotNil(message.header("nullh"))
            }
        }
        XCTAssertEqual(try consumer.watermarks(topic: "roundtrip", partition: 0).high, 50)
        XCTAssertEqual(try producer.topics()["roundtrip"], 4)

        // kcat: partition, offset, key, timestamp and value (hex via %S length check and exact bytes via -J).
        let kcat = try ProcessRunner.run("/usr/bin/kcat", ["-C", "-b", cluster.bootstrap, "-t", "roundtrip", "-e", "-q",
                                                            "-f", "%p %o %k %T %S\n"])
        XCTAssertEqual(kcat.status, 0, kcat.stderrText)
        let lines = kcat.stdoutText.split(separator: "\n")
        XCTAssertEqual(lines.count, 200)
        for line in lines {
            let fields = line.split(separator: " ")
            let partition = Int32(fields[0])!, offset = Int(fields[1])!
            let want = sent.filter { $0.partition == partition }[offset]
            XCTAssertEqual(String(fields[2]), String(decoding: want.key, as: UTF8.self))
            XCTAssertEqual(Int64(fields[3]), want.ts)
            XCTAssertEqual(Int(fields[4]), want.value.count)
        }

        // kafka-python 2.0.2: exact value bytes, keys, timestamps, headers.
        let script = """
        import sys, json
        from kafka import KafkaConsumer, TopicPartition
        c = KafkaConsumer(bootstrap_servers=sys.argv[1].split(','), enable_auto_commit=False, consumer_timeout_ms=5000, api_version=(2,5,0))
        tps = [TopicPartition('roundtrip', p) for p in range(4)]
        c.assign(tps); c.seek_to_beginning()
        out = []
        for m in c:
            out.append([m.partition, m.offset, m.key.hex(), m.value.hex(), m.timestamp, [[k, None if v is None else v.hex()] for k, v in m.headers]])
        print(json.dumps(out))
        """
        let python = try ProcessRunner.python(script, [cluster.bootstrap])
        XCTAssertEqual(python.status, 0, python.stderrText)
        let rows = try JSONSerialization.jsonObject(with: python.stdout) as! [[Any]]
        XCTAssertEqual(rows.count, 200)
        for row in rows {
            let partition = Int32(row[0] as! Int), offset = row[1] as! Int
            let want = sent.filter { $0.partition == partition }[offset]
            XCTAssertEqual(row[2] as? String, hex(want.key))
            XCTAssertEqual(row[3] as? String, hex(want.value))
            XCTAssertEqual(Int64(row[4] as! Int), want.ts)
            let headers = row[5] as! [[Any]]
            XCTAssertEqual(headers.count, 2)
            XCTAssertEqual(headers[0][0] as? String, "h1")
            XCTAssertEqual(headers[0][1] as? String, hex(Array("v\(offset * 4 + Int(partition))".utf8)))
            XCTAssertTrue(headers[1][1] is NSNull)
        }
    }

    /// K2Partitioner must choose what librdkafka's default partitioner chooses.
    func testPartitionerMatchesLibrdkafka() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("keyed", partitions: 6)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        let keys = ["BTCUSDT", "ETHUSDT", "XBT/USD", "ETH/USD", "SOLUSDT", "BNBUSDT", "ADAUSDT", "a", "zz"]
            + (0..<40).map { "sym\($0)" }
        for key in keys {
            try producer.produce(topic: "keyed", key: Array(key.utf8), value: Array(key.utf8))
        }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))
        let consumer = try KafkaConsumer(config: config)
        try consumer.assign((0..<6).map { ("keyed", Int32($0), .beginning) })
        var seen = 0, ended = Set<Int32>()
        var partitionsUsed = Set<Int32>()
        while ended.count < 6 {
            guard let event = try consumer.poll(timeoutMs: 10_000) else { XCTFail("timed out"); return }
            if case .message(let message) = event {
                XCTAssertEqual(K2Partitioner.partition(key: message.key!, partitionCount: 6), message.partition,
                               String(decoding: message.key!, as: UTF8.self))
                partitionsUsed.insert(message.partition)
                seen += 1
            } else if case .endOfPartition(_, let partition, _) = event {
                ended.insert(partition)
            }
        }
        XCTAssertEqual(seen, keys.count)
        XCTAssertGreaterThan(partitionsUsed.count, 3)
        XCTAssertNil(K2Partitioner.partition(key: [], partitionCount: 6))
    }

    func testConfigRedactsSecretsAndRejectsBadPassthrough() throws {
        var config = try KafkaProperties.config(commandLine: ["security.protocol=SASL_SSL"],
                                                environment: ["K2_KAFKA_SASL_PASSWORD": "hunter2"])
        XCTAssertEqual(config["sasl.password"], "hunter2", "the secret comes from the environment")
        XCTAssertFalse(config.redactedDescription.contains("hunter2"))
        XCTAssertTrue(config.redactedDescription.contains("security.protocol=SASL_SSL"))
        XCTAssertThrowsError(try KafkaProperties.merged(commandLine: ["novalue"], environment: [:]))
        XCTAssertThrowsError(try KafkaProperties.merged(commandLine: ["sasl.password=hunter2"], environment: [:])) { error in
            XCTAssertFalse("\(error)".contains("hunter2"), "a refused secret is not echoed")
        }
        config.set("no.such.property", "1")
        XCTAssertThrowsError(try KafkaProducer(config: config)) { error in
            XCTAssertTrue("\(error)".contains("no.such.property"))
        }
    }

    /// A broker taken down while producing: librdkafka retries, and once it is back everything is delivered.
    func testBrokerDownThenUpLosesNothing() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        try cluster.createTopic("faulty", partitions: 3)
        for partition in Int32(0)..<3 { try cluster.setPartitionLeader(topic: "faulty", partition: partition, brokerId: 1) }
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        for index in 0..<100 { try producer.produce(topic: "faulty", partition: Int32(index % 3), key: nil, value: [UInt8(index)]) }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))
        try cluster.setBrokerDown(1)
        for index in 100..<300 { try producer.produce(topic: "faulty", partition: Int32(index % 3), key: nil, value: [UInt8(index & 0xFF)]) }
        producer.poll(timeoutMs: 500)
        try cluster.setBrokerUp(1)
        // Produce request errors that an idempotent producer retries.
        cluster.pushRequestErrors(apiKey: 0, errors: [6, 6])   // NOT_LEADER_FOR_PARTITION
        XCTAssertTrue(producer.flush(timeoutMs: 60_000))
        XCTAssertEqual(producer.deliveredCount, 300)
        XCTAssertEqual(producer.failedCount, 0)
        let consumer = try KafkaConsumer(config: config)
        var total: Int64 = 0
        for partition in Int32(0)..<3 { total += try consumer.watermarks(topic: "faulty", partition: partition).high }
        XCTAssertEqual(total, 300)
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}
