import K2CLI

/// What a capture did, printed at exit (JSON with `--json`; keys snake_case, docs/segment-format.md).
public struct CaptureSummary: Codable, Sendable {
    public struct Stream: Codable, Sendable {
        public var stream: String
        /// A Kafka capture's streams are partitions: the topic and partition as data, not only in the name.
        public var topic: String?
        public var partition: Int32?
        public var messages: Int64
        public var bytes: Int64
        public var gaps: Int64
        public var missingIds: Int64
        public var malformed: Int64
        public var oversized: Int64
        public var lastSequence: UInt64

        enum CodingKeys: String, CodingKey {
            case stream, topic, partition, messages, bytes, gaps
            case missingIds = "missing_ids"
            case malformed, oversized
            case lastSequence = "last_sequence"
        }
    }

    public var source: String
    public var directory: String
    public var url: String
    /// `max-messages`, `duration`, `signal`, `write-failed`, `start-failed`.
    public var stopReason: String
    public var exitCode: Int32
    public var durationSeconds: Double
    public var messages: Int64
    public var bytes: Int64
    public var gaps: Int64
    public var malformed: Int64
    public var oversized: Int64
    public var connects: Int64
    public var reconnects: Int64
    public var disconnects: Int64
    public var stalls: Int64
    public var pings: Int64
    public var streams: [Stream]
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case source, directory, url
        case stopReason = "stop_reason"
        case exitCode = "exit_code"
        case durationSeconds = "duration_seconds"
        case messages, bytes, gaps, malformed, oversized, connects, reconnects, disconnects, stalls, pings, streams, error
    }
}

extension CaptureSummary {
    /// The summary of a capture that has not started yet: a failure before the first message is "could not
    /// start" (exit 2) until the run fills in what it did.
    static func notStarted(source: String, directory: String, url: String) -> CaptureSummary {
        CaptureSummary(source: source, directory: directory, url: url, stopReason: "start-failed",
                       exitCode: K2ExitCode.unusable.rawValue, durationSeconds: 0, messages: 0, bytes: 0, gaps: 0,
                       malformed: 0, oversized: 0, connects: 0, reconnects: 0, disconnects: 0, stalls: 0, pings: 0,
                       streams: [], error: nil)
    }
}
