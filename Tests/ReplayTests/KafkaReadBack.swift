import Foundation
import TestSupport
import XCTest

/// What an independent client (kafka-python 2.0.2 + fastavro) read from a topic.
struct ConsumedMessage {
    var topic: String
    var partition: Int32
    var offset: Int64
    var key: [UInt8]
    var timestampMs: Int64
    var value: [UInt8]
    var headers: [(String, [UInt8]?)]
    var decoded: [String: Any]?

    /// Key and value bytes: unique per replayed record (the values carry trade ids and receive times).
    var content: String { KafkaReadBack.hex(key) + ":" + KafkaReadBack.hex(value) }

    var provenance: String? {
        headers.first { $0.0 == "k2-replay-id" }?.1.map { String(decoding: $0, as: UTF8.self) }
    }
}

enum KafkaReadBack {
    /// Reads every partition of `topics` from the beginning with kafka-python; Avro values of K2's raw topics
    /// are decoded with fastavro against the given schemas (Confluent framing checked and stripped).
    static func kafkaPython(bootstrap: String, topics: [String], schemas: [String: String] = [:]) throws -> [ConsumedMessage] {
        let script = """
        import sys, json, io
        import fastavro
        from kafka import KafkaConsumer, TopicPartition
        bootstrap, topics, schemas = sys.argv[1], sys.argv[2].split(','), json.loads(sys.argv[3])
        parsed = {t: fastavro.parse_schema(json.loads(s)) for t, s in schemas.items()}
        c = KafkaConsumer(bootstrap_servers=bootstrap.split(','), enable_auto_commit=False, api_version=(2, 5, 0))
        out = []
        for topic in topics:
            parts = sorted(c.partitions_for_topic(topic) or [])
            tps = [TopicPartition(topic, p) for p in parts]
            c.assign(tps)
            c.seek_to_beginning()
            ends = c.end_offsets(tps)
            remaining = {tp for tp in tps if ends[tp] > 0}
            got = {tp: [] for tp in tps}
            while remaining:
                for tp, msgs in c.poll(timeout_ms=5000).items():
                    got[tp].extend(msgs)
                    if msgs and msgs[-1].offset >= ends[tp] - 1:
                        remaining.discard(tp)
            for tp in tps:
                for m in got[tp]:
                    decoded = None
                    if topic in parsed:
                        assert m.value[0] == 0, 'magic byte'
                        buf = io.BytesIO(m.value[5:])
                        decoded = fastavro.schemaless_reader(buf, parsed[topic])
                        assert buf.read() == b'', 'trailing bytes after the Avro body'
                        decoded['_schema_id'] = int.from_bytes(m.value[1:5], 'big')
                    out.append({'topic': topic, 'partition': m.partition, 'offset': m.offset, 'key': m.key.hex(),
                                'ts': m.timestamp, 'value': m.value.hex(),
                                'headers': [[k, None if v is None else v.hex()] for k, v in m.headers], 'decoded': decoded})
        print(json.dumps(out))
        """
        let schemaJSON = String(decoding: try JSONSerialization.data(withJSONObject: schemas), as: UTF8.self)
        let result = try ProcessRunner.python(script, [bootstrap, topics.joined(separator: ","), schemaJSON])
        guard result.status == 0 else { throw CheckerError(text: "kafka-python failed: \(result.stderrText)") }
        let rows = try JSONSerialization.jsonObject(with: result.stdout) as! [[String: Any]]
        return rows.map { row in
            ConsumedMessage(topic: row["topic"] as! String, partition: Int32(row["partition"] as! Int),
                            offset: Int64(row["offset"] as! Int), key: bytes(row["key"] as! String),
                            timestampMs: Int64(row["ts"] as! Int), value: bytes(row["value"] as! String),
                            headers: (row["headers"] as! [[Any]]).map { ($0[0] as! String, ($0[1] as? String).map(bytes)) },
                            decoded: row["decoded"] as? [String: Any])
        }
    }

    /// kcat's view: `partition offset key timestamp valueLength headers` per message.
    static func kcat(bootstrap: String, topic: String) throws -> [String] {
        let result = try ProcessRunner.run("/usr/bin/kcat", ["-C", "-b", bootstrap, "-t", topic, "-e", "-q",
                                                             "-f", "%p %o %k %T %S %h\n"])
        guard result.status == 0 else { throw CheckerError(text: "kcat failed: \(result.stderrText)") }
        return result.stdoutText.split(separator: "\n").map(String.init)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }
}

struct CheckerError: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}

/// Runs k2-replay (the built product) and returns its result.
enum ReplayProcess {
    static var path: String { TestEnvironment.productPath("k2-replay") }

    static func run(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(path, arguments)
    }

    /// Starts k2-replay without waiting; stderr/stdout go to files in `directory`.
    static func start(_ arguments: [String], logIn directory: URL, name: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        FileManager.default.createFile(atPath: directory.appendingPathComponent(name + ".err").path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: directory.appendingPathComponent(name + ".err"))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Starts the replay `arguments` `times` times and kills each run with SIGKILL at a random point: 0 to
    /// `maxDelay` µs after `delivered()` (messages in the target) has grown by `atLeast` since the run started,
    /// so a loaded machine's slow start-up cannot turn every kill into a kill before the first message. With
    /// `mustBeRunning`, asserts that each kill hit a running replay, not a finished one. Returns the delays (for
    /// failure messages); each run's stderr is `kill<N>.err` in `directory`.
    static func killAtRandomPoints(_ times: Int, _ arguments: [String], logIn directory: URL, afterDelivering atLeast: Int64,
                                   maxDelay: UInt32, mustBeRunning: Bool, delivered: () throws -> Int64,
                                   file: StaticString = #filePath, line: UInt = #line) throws -> [UInt32] {
        var generator = SystemRandomNumberGenerator()
        var delays: [UInt32] = []
        for attempt in 0..<times {
            let before = try delivered()
            let process = try start(arguments, logIn: directory, name: "kill\(attempt)")
            for _ in 0..<1500 where process.isRunning {
                if try delivered() >= before + atLeast { break }
                usleep(20_000)
            }
            let delay = UInt32.random(in: 0...maxDelay, using: &generator)
            delays.append(delay)
            usleep(delay)
            if mustBeRunning {
                let stderr = (try? String(contentsOf: directory.appendingPathComponent("kill\(attempt).err"), encoding: .utf8)) ?? ""
                XCTAssertTrue(process.isRunning, "kill \(attempt) (after \(delays) µs) must hit a running replay: \(stderr)", file: file, line: line)
            }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if mustBeRunning { XCTAssertEqual(process.terminationReason, .uncaughtSignal, "killed, not finished", file: file, line: line) }
        }
        return delays
    }
}
