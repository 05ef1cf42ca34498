import Foundation
import SegmentLog

/// Segment logs for the program tests: records captured from Kafka, so both Bronze styles accept them.
enum KafkaLogFixture {
    /// A segment log captured from Kafka: three partitions of `perPartition` records with real offsets.
    /// Returns "partition:offset" → (value hex, timestamp ms).
    static func write(_ path: String, topic: String, perPartition: Int64) throws -> [String: (hex: String, timestampMs: Int64)] {
        let writer = try SegmentLogWriter(directory: path, diagnostics: { _ in })
        var records: [String: (hex: String, timestampMs: Int64)] = [:]
        var receive: Int64 = 1_707_472_800_000_000_000
        for offset in 0..<perPartition {
            for partition in Int32(0)..<3 {
                receive += 1_234_567
                let timestampMs = 1_707_472_800_000 + offset * 250 + Int64(partition)
                let value: [UInt8] = [0x00, 0, 0, 0, 7] + Array("trade p\(partition) o\(offset) ".utf8)
                    + (0..<Int(offset % 11)).map { UInt8(($0 * 37 + Int(offset)) & 0xFF) }
                try writer.append(LogRecord(
                    receiveTimeNanos: receive, source: "kafka:" + topic, stream: String(partition), payload: value,
                    kafka: KafkaCoordinates(partition: partition, offset: offset, timestampMs: timestampMs, timestampType: 1,
                                            key: Array("BTCUSDT".utf8))))
                records["\(partition):\(offset)"] = (value.map { String(format: "%02x", $0) }.joined(), timestampMs)
            }
        }
        try writer.close()
        return records
    }
}
