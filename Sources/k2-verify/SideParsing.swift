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

/// `--partitions 0,1,4-7`.
func parsePartitions(_ text: String) throws -> Set<Int32> {
    var result = Set<Int32>()
    for item in text.split(separator: ",") {
        let bounds = item.split(separator: "-", maxSplits: 1).map { Int32($0.trimmingCharacters(in: .whitespaces)) }
        if bounds.count == 1, let value = bounds[0], value >= 0 {
            result.insert(value)
        } else if bounds.count == 2, let low = bounds[0], let high = bounds[1], low >= 0, low <= high {
            result.formUnion(low...high)
        } else {
            throw UsageError("--partitions \(text): expected numbers and ranges like 0,1,4-7")
        }
    }
    guard !result.isEmpty else { throw UsageError("--partitions: empty list") }
    return result
}
