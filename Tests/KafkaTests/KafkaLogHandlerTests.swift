import Foundation
import Kafka
import TestSupport
import XCTest

/// librdkafka's log lines reach `KafkaConfig.logHandler`, and nothing of them is written raw to stderr.
final class KafkaLogHandlerTests: XCTestCase {
    /// Lines from librdkafka's threads, kept under a lock.
    final class Collected: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [KafkaLogLine] = []
        func append(_ line: KafkaLogLine) { lock.lock(); lines.append(line); lock.unlock() }
        var all: [KafkaLogLine] { lock.lock(); defer { lock.unlock() }; return lines }
    }

    func testProducerAtAClosedPortLogsItsFailureToTheHandlerNotToStderr() throws {
        let port = try Self.closedPort()
        let collected = Collected()
        // stderr (fd 2) into a file while the producer lives, to see what would have reached the terminal.
        let stderrFile = FileManager.default.temporaryDirectory.appendingPathComponent("kafka-log-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: stderrFile) }
        let saved = dup(2)
        let file = open(stderrFile.path, O_WRONLY)
        XCTAssertGreaterThanOrEqual(file, 0)
        dup2(file, 2)
        close(file)
        do {
            var config = KafkaConfig([("bootstrap.servers", "127.0.0.1:\(port)"), ("reconnect.backoff.ms", "50")])
            config.logHandler = { collected.append($0) }
            let producer = try KafkaProducer(config: config)
            try producer.produce(topic: "nowhere", key: nil, value: [1])
            let deadline = Date().addingTimeInterval(20)
            while Date() < deadline && !collected.all.contains(where: { $0.facility == "FAIL" }) { producer.poll(timeoutMs: 100) }
        }
        fflush(stderr)
        dup2(saved, 2)
        close(saved)
        let fail = collected.all.first { $0.facility == "FAIL" }
        XCTAssertNotNil(fail, "no FAIL line reached the handler: \(collected.all)")
        XCTAssertTrue(fail?.message.contains("\(port)") ?? false, fail?.message ?? "")
        XCTAssertEqual(fail.map { $0.isError || $0.isWarning }, true)
        XCTAssertTrue(fail?.clientName.contains("producer") ?? false)
        let written = try String(contentsOf: stderrFile, encoding: .utf8)
        XCTAssertFalse(written.contains("|FAIL|"), written)
        XCTAssertFalse(written.contains("Connection refused"), written)
    }

    /// A TCP port on 127.0.0.1 that nothing listens on (bound, then released).
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw NSError(domain: "closedPort", code: Int(errno)) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
