import Iceberg

/// One side of a check as configured: a Bronze table of the check's catalog (at a snapshot, or the one
/// current at the check's `asOfMillis`, or the current one), a Kafka topic, or a segment log captured from Kafka.
public enum ParitySide: Sendable, Equatable, CustomStringConvertible {
    case table(TableIdentifier, snapshotId: Int64? = nil)
    case kafka(bootstrap: String, topic: String)
    case log(directory: String)

    public var description: String {
        switch self {
        case .table(let identifier, _): return identifier.description
        case .kafka(let bootstrap, let topic): return "kafka://\(bootstrap)/\(topic)"
        case .log(let directory): return "log:\(directory)"
        }
    }

    public var isTable: Bool {
        if case .table = self { return true }
        return false
    }
}
