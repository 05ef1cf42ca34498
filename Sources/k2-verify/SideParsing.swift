import Iceberg
import K2CLI
import ParitySides

extension ParitySide {
    /// A side as typed: `NAMESPACE.TABLE` (in `--catalog`), `kafka://HOST:PORT/TOPIC` (credentials
    /// refused), or `log:DIR` (a segment log captured from Kafka).
    init(parsing text: String, snapshotId: Int64?, option: String) throws {
        if let address = try KafkaTopicAddress(parsing: text, option: option) {
            self = .kafka(bootstrap: address.bootstrap, topic: address.topic)
        } else if text.hasPrefix("log:") {
            guard text.count > 4 else { throw UsageError("\(option) \(text): expected log:DIR") }
            self = .log(directory: String(text.dropFirst(4)))
        } else {
            guard let identifier = try? TableIdentifier(text) else {
                throw UsageError("\(option) \(text): expected a table NAMESPACE.TABLE (e.g. market_data.bronze_binance_trades), kafka://HOST:PORT/TOPIC or log:DIR")
            }
            self = .table(identifier, snapshotId: snapshotId)
            return
        }
        if snapshotId != nil { throw UsageError("\(option) \(text): --snapshot-left/--snapshot-right apply to tables only") }
    }
}

/// `--partitions 0,1,4-7`, parsed as every program parses it.
func parsePartitions(_ text: String) throws -> Set<Int32> {
    Set(try PartitionSelection(parsing: text, option: "--partitions").partitions)
}
