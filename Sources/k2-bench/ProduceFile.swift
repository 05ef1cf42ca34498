import ArgumentParser
import Foundation
import Kafka

/// The producing layer of `k2-replay --to kafka` alone: the same `KafkaProducer` calls (resolved topic handle,
/// explicit partition and timestamp, per-partition delivery tally, every report awaited) fed from messages
/// already in memory instead of a segment log. Beside `kcat -P -l FILE` it shows how much of the replay's cost
/// is librdkafka's per-message work, which no change on the reading side can remove.
struct ProduceFile: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce-file",
        abstract: "Produce the KEY<TAB>VALUE lines of a file through k2-replay's Kafka producer (no segment log).",
        discussion: """
        The file is read into memory first; then every line is produced as k2-replay produces a message and the
        program waits for every delivery report. Prints `messages=N delivered=N seconds=S` (from the first
        produce to the last report). Example, beside its peer:
          k2-bench produce-file --bootstrap HOST:PORT --topic t1 --file values.txt
          kcat -P -b HOST:PORT -t t2 -K '\\t' -l values.txt
        """)

    @Option(help: "Kafka bootstrap servers HOST:PORT[,...].") var bootstrap: String
    @Option(help: "Topic to produce to (must exist).") var topic: String
    @Option(help: "KEY<TAB>VALUE lines, one message each.") var file: String
    @Option(name: .customShort("X"), help: "librdkafka property key=value (repeatable), as k2-replay's -X.")
    var properties: [String] = []

    func run() throws {
        let text = try Data(contentsOf: URL(fileURLWithPath: file))
        let config = try KafkaProperties.config(commandLine: properties,
                                                defaults: [("bootstrap.servers", bootstrap), ("enable.gapless.guarantee", "true")])
        let producer = try KafkaProducer(config: config)
        let handle = try producer.topic(topic)
        guard let partitions = try producer.topics()[topic], partitions > 0 else {
            throw ValidationError("topic \(topic) not found at \(bootstrap)")
        }
        let partitionCount = Int(partitions)
        producer.trackDeliveries(Array(repeating: PartitionDelivery(), count: partitionCount))
        let start = DispatchTime.now().uptimeNanoseconds
        var messages = 0
        try text.withUnsafeBytes { (all: UnsafeRawBufferPointer) in
            guard let base = all.baseAddress else { return }
            var lineStart = 0
            // The partition of the previous key, as the replay keeps it per stream (no hash per message).
            var lastKey: UnsafeRawBufferPointer?
            var lastPartition: Int32 = 0
            while lineStart < all.count {
                let rest = all.count - lineStart
                let newline = memchr(base + lineStart, 0x0A, rest).map { UnsafeRawPointer($0) - base } ?? all.count
                let line = UnsafeRawBufferPointer(start: base + lineStart, count: newline - lineStart)
                lineStart = newline + 1
                guard let tabPointer = memchr(line.baseAddress!, 0x09, line.count) else { continue }
                let tab = UnsafeRawPointer(tabPointer) - line.baseAddress!
                let key = UnsafeRawBufferPointer(rebasing: line[0..<tab])
                let value = UnsafeRawBufferPointer(rebasing: line[(tab + 1)...])
                let sameKey = lastKey.map { $0.count == key.count && (key.isEmpty || memcmp($0.baseAddress!, key.baseAddress!, key.count) == 0) } ?? false
                if !sameKey {
                    lastPartition = K2Partitioner.partition(key: Array(key), partitionCount: Int32(partitionCount)) ?? 0
                    lastKey = key
                }
                try producer.produce(to: handle, partition: lastPartition, key: key, value: value,
                                     timestampMs: 1_707_472_800_000 + Int64(messages / 10), tally: Int(lastPartition))
                messages += 1
            }
        }
        while !producer.flush(timeoutMs: 1_000) {}
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        print("messages=\(messages) delivered=\(producer.deliveredCount) failed=\(producer.failedCount) seconds=\(seconds)")
        if producer.failedCount > 0 { throw ExitCode(1) }
    }
}
