import SegmentLog

/// Where a replay writes: the one way a record reaches any target (Kafka, JSON lines, a Bronze table, a dry
/// run). A source hands every selected record to its sink in order, knowing nothing else of it; the run
/// owns reading, selection, progress and stopping.
public protocol ReplaySink: AnyObject {
    /// The streams that `write(view:)`'s `streamIndex` names, set by the source before its first view.
    var readerStreams: [StreamKey] { get set }
    /// Writes (or queues) what one record becomes; returns the number of output messages or rows it made.
    func write(_ record: LogRecord) throws -> Int
    /// `write` of a record as a view of the source's buffer (valid during the call only): no copy before
    /// the sink takes what it needs.
    func write(view: LogRecordView) throws -> Int
    /// Called when the source had nothing to hand over for a while (time-based commits).
    func idle() throws
    /// Waits for everything queued to be durable/delivered; throws when something was lost.
    func finish() throws
    /// Counters for the report.
    var summary: [String: SummaryValue] { get }
    /// Human-readable extra for the progress line (e.g. messages awaiting delivery).
    var progressNote: String { get }
}

extension ReplaySink {
    public func idle() throws {}

    /// `view` as an owned record of its stream in `readerStreams`, for sinks that keep no view.
    func record(of view: LogRecordView) -> LogRecord {
        let key = readerStreams[view.streamIndex]
        var record = LogRecord(receiveTimeNanos: view.receiveTimeNanos, source: key.source, stream: key.stream,
                               payload: Array(view.payload))
        record.kind = view.kind
        record.flags = view.flags
        record.sequence = view.sequence
        record.kafka = view.kafka
        record.gapExpected = view.gapExpected
        record.gapSeen = view.gapSeen
        return record
    }
}

/// A JSON value in a sink's summary.
public enum SummaryValue: Encodable, Equatable {
    case int(Int)
    case string(String)
    case double(Double)
    case bool(Bool)
    case object([String: SummaryValue])
    case array([SummaryValue])
    case null

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    /// Per-partition counts as `[{"topic": T, "partition": N, key: count}]`, ordered by topic and partition.
    static func partitions(_ counts: [TopicPartition: Int], key: String) -> SummaryValue {
        .array(counts.sorted { $0.key < $1.key }.map { target, count in
            .object(["topic": .string(target.topic), "partition": .int(Int(target.partition)), key: .int(count)])
        })
    }
}
