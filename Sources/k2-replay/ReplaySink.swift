import SegmentLog

/// Where a replay writes. Each sink gets every selected log record in log order; the runner owns reading,
/// selection, progress and signals. `--to kafka` and `--to jsonl` are sinks; `--to iceberg` can be another.
protocol ReplaySink: AnyObject {
    /// Writes (or queues) what one log record becomes; returns the number of output messages it made.
    func write(_ record: LogRecord) throws -> Int
    /// Waits for everything queued to be durable/delivered; throws when something was lost.
    func finish() throws
    /// Counters for the `--json` summary.
    var summary: [String: SummaryValue] { get }
    /// Human-readable extra for the progress line (e.g. messages awaiting delivery).
    var progressNote: String { get }
}

/// A JSON value in the summary (ints, strings, nested objects).
enum SummaryValue: Encodable {
    case int(Int)
    case string(String)
    case double(Double)
    case object([String: SummaryValue])
    case null

    func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }
}
