/// What a replay did, for the program to print (`--json`: this object, keys in snake_case).
public struct ReplayReport: Encodable {
    /// Source records read.
    public var records = 0
    /// Messages (or rows) they made.
    public var messages = 0
    public var seconds: Double = 0
    /// A stop was requested: what was read was flushed or committed, a rerun resumes.
    public var interrupted = false
    public var dryRun = false
    /// The sink's own counters (Kafka: produced, delivered, per_partition, checkpoint; Iceberg: table,
    /// rows_committed, commits, run_id; dry run: would_produce, per_partition).
    public var details: [String: SummaryValue] = [:]
    /// A dry run into a table: per day, the rows and files it would write (lines for people).
    public var plan: [String] = []

    public var messagesPerSecond: Double { seconds > 0 ? (Double(messages) / seconds).rounded() : 0 }

    enum CodingKeys: String, CodingKey {
        case records = "records_read", messages, seconds, interrupted
        case messagesPerSecond = "messages_per_second", dryRun = "dry_run"
    }

    /// A sink's counter key, beside the fixed ones.
    private struct DetailKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: Encoder) throws {
        var details = encoder.container(keyedBy: DetailKey.self)
        let fixed = Set([CodingKeys.records, .messages, .seconds, .interrupted, .messagesPerSecond, .dryRun].map(\.rawValue))
        for (key, value) in self.details where !fixed.contains(key) {
            try details.encode(value, forKey: DetailKey(stringValue: key))
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(records, forKey: .records)
        try c.encode(messages, forKey: .messages)
        try c.encode((seconds * 1000).rounded() / 1000, forKey: .seconds)
        try c.encode(messagesPerSecond, forKey: .messagesPerSecond)
        try c.encode(interrupted, forKey: .interrupted)
        try c.encode(dryRun, forKey: .dryRun)
    }
}
