import Foundation
import Kafka
import SegmentLog
import TestSupport
@testable import Replay

/// A small Binance trade log (wrapped trade frames, consecutive trade ids, receive times 1 ms apart) and
/// helpers to replay it in this process.
struct ReplayLogFixture {
    let directory: String
    let symbols: [String]
    let trades: Int
    /// The first record's receive time (ns).
    let startNanos: Int64 = 1_707_472_800_000_000_000

    static func write(trades: Int, symbols: [String] = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]) throws -> ReplayLogFixture {
        let directory = try TestEnvironment.temporaryDirectory("replay-engine").path
        let fixture = ReplayLogFixture(directory: directory, symbols: symbols, trades: trades)
        let writer = try SegmentLogWriter(directory: directory, diagnostics: { _ in })
        for index in 0..<trades {
            let symbol = symbols[index % symbols.count]
            let receive = fixture.startNanos + Int64(index) * 1_000_000
            let ms = receive / 1_000_000
            let frame = #"{"stream":"\#(symbol.lowercased())@trade","data":{"e":"trade","E":\#(ms),"s":"\#(symbol)","t":\#(1000 + index),"p":"42000.\#(index % 100)","q":"0.\#(index % 97 + 1)","T":\#(ms - 1),"m":\#(index % 2 == 0),"M":true}}"#
            try writer.append(LogRecord(receiveTimeNanos: receive, source: "binance", stream: symbol.lowercased() + "@trade",
                                        payload: Array(frame.utf8)))
        }
        try writer.close()
        return fixture
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// A `--to kafka --format json` replay of the log into `cluster`.
    func configuration(cluster: EmbeddedKafkaCluster, stateDirectory: String) -> ReplayConfiguration {
        var configuration = ReplayConfiguration(origin: .segmentLog(directory: directory))
        configuration.target = .kafka
        configuration.bootstrap = .servers(cluster.bootstrap)
        configuration.format = .json
        configuration.stateDirectory = stateDirectory
        configuration.topicPartitions = 4
        return configuration
    }

    /// The sum of the high watermarks of `topic`'s partitions, and each one.
    static func highWatermarks(_ cluster: EmbeddedKafkaCluster, topic: String, partitions: Int32) throws -> [Int64] {
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let consumer = try KafkaConsumer(config: config)
        return try (0..<partitions).map { try consumer.watermarks(topic: topic, partition: $0).high }
    }
}

/// Notes a run made, collected for assertions.
final class CollectedNotes: @unchecked Sendable {
    private let lock = NSLock()
    private var notes: [ReplayNote] = []

    var diagnostics: ReplayDiagnostics { { note in self.lock.lock(); self.notes.append(note); self.lock.unlock() } }

    var all: [ReplayNote] {
        lock.lock()
        defer { lock.unlock() }
        return notes
    }

    func contains(_ text: String) -> Bool { all.contains { $0.text.contains(text) } }
}
