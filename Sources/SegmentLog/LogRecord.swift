// SegmentLog: the durable, segmented, compressed, checksummed record log that k2-capture writes and the
// other programs read. Format: docs/segment-format.md.

/// What a record is: a frame as received, or a control event the capture noted around the frames.
public enum RecordKind: UInt8, Sendable, CaseIterable {
    case data = 0, connect = 1, disconnect = 2, subscribeReply = 3, gap = 4
}

/// Per-record marks set by the capture; stored as one byte.
public struct RecordFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// The frame did not parse as the exchange's format (kept byte-exact anyway).
    public static let malformed = RecordFlags(rawValue: 1 << 0)
    /// The frame exceeded the capture's size limit.
    public static let oversized = RecordFlags(rawValue: 1 << 1)
}

public struct KafkaHeader: Sendable, Equatable, Hashable {
    public var name: String
    public var value: [UInt8]?
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}

/// Where a Kafka-sourced record came from, kept so a replay can reproduce it exactly.
public struct KafkaCoordinates: Sendable, Equatable, Hashable {
    public var partition: Int32
    public var offset: Int64
    public var timestampMs: Int64
    public var timestampType: Int8   // 0 none, 1 CreateTime, 2 LogAppendTime
    public var key: [UInt8]?
    public var headers: [KafkaHeader]

    public init(partition: Int32, offset: Int64, timestampMs: Int64, timestampType: Int8, key: [UInt8]?, headers: [KafkaHeader] = []) {
        self.partition = partition
        self.offset = offset
        self.timestampMs = timestampMs
        self.timestampType = timestampType
        self.key = key
        self.headers = headers
    }
}

/// A stream of a log: the unit that owns a sequence-number space.
public struct StreamKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var source: String
    public var stream: String
    public init(source: String, stream: String) {
        self.source = source
        self.stream = stream
    }
    public static func < (a: StreamKey, b: StreamKey) -> Bool {
        a.source != b.source ? a.source < b.source : a.stream < b.stream
    }
    public var description: String { "\(source)/\(stream)" }
}

/// One record of a segment log.
public struct LogRecord: Sendable, Equatable {
    public var kind: RecordKind
    public var flags: RecordFlags
    /// Wall clock at receipt, nanoseconds since the Unix epoch.
    public var receiveTimeNanos: Int64
    /// Per stream, assigned by the writer: 1, 2, 3, ...
    public var sequence: UInt64
    /// "binance", "kraken", "kraken-v2", or "kafka:<topic>".
    public var source: String
    /// "btcusdt@trade", "XBT/USD", or the Kafka partition number as text.
    public var stream: String
    /// The frame exactly as received; for control records a small JSON text.
    public var payload: [UInt8]
    /// Only when the source is Kafka.
    public var kafka: KafkaCoordinates?
    /// For `kind == .gap`: the id expected and the id seen.
    public var gapExpected: Int64?
    public var gapSeen: Int64?

    public init(
        kind: RecordKind = .data, flags: RecordFlags = [], receiveTimeNanos: Int64, sequence: UInt64 = 0,
        source: String, stream: String, payload: [UInt8], kafka: KafkaCoordinates? = nil,
        gapExpected: Int64? = nil, gapSeen: Int64? = nil
    ) {
        self.kind = kind
        self.flags = flags
        self.receiveTimeNanos = receiveTimeNanos
        self.sequence = sequence
        self.source = source
        self.stream = stream
        self.payload = payload
        self.kafka = kafka
        self.gapExpected = gapExpected
        self.gapSeen = gapSeen
    }

    public var streamKey: StreamKey { StreamKey(source: source, stream: stream) }
}

/// A record as `SegmentLogReader.next(view:)` hands it over: the payload is borrowed from the reader's block
/// buffer (valid only during that call) and the stream is an index into the reader's `streamKeys`.
public struct LogRecordView {
    public var kind: RecordKind
    public var flags: RecordFlags
    public var receiveTimeNanos: Int64
    public var sequence: UInt64
    public var streamIndex: Int
    public var payload: UnsafeRawBufferPointer
    public var kafka: KafkaCoordinates?
    public var gapExpected: Int64?
    public var gapSeen: Int64?

    public init(kind: RecordKind, flags: RecordFlags, receiveTimeNanos: Int64, sequence: UInt64, streamIndex: Int,
                payload: UnsafeRawBufferPointer, kafka: KafkaCoordinates?, gapExpected: Int64?, gapSeen: Int64?) {
        self.kind = kind
        self.flags = flags
        self.receiveTimeNanos = receiveTimeNanos
        self.sequence = sequence
        self.streamIndex = streamIndex
        self.payload = payload
        self.kafka = kafka
        self.gapExpected = gapExpected
        self.gapSeen = gapSeen
    }
}
