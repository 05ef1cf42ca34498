/// What a capture did, printed at exit (JSON with `--json`).
public struct CaptureSummary: Codable, Sendable {
    public struct Stream: Codable, Sendable {
        public var stream: String
        public var messages: Int64
        public var bytes: Int64
        public var gaps: Int64
        public var missingIds: Int64
        public var malformed: Int64
        public var oversized: Int64
        public var lastSequence: UInt64
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
}
