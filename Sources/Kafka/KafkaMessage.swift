/// One Kafka header; a nil value is a null header value (distinct from an empty one).
public struct KafkaMessageHeader: Sendable, Equatable {
    public var name: String
    public var value: [UInt8]?

    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}

/// Kafka record timestamp types as the protocol numbers them.
public enum KafkaTimestampType: Int8, Sendable {
    case notAvailable = 0, createTime = 1, logAppendTime = 2
}

/// A consumed record, copied out of librdkafka exactly (key, headers and value bytes; nil stays nil).
public struct KafkaMessage: Sendable, Equatable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var timestampMs: Int64
    public var timestampType: KafkaTimestampType
    public var key: [UInt8]?
    public var headers: [KafkaMessageHeader]
    public var value: [UInt8]?

    public init(topic: String, partition: Int32, offset: Int64, timestampMs: Int64, timestampType: KafkaTimestampType,
                key: [UInt8]?, headers: [KafkaMessageHeader], value: [UInt8]?) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.timestampMs = timestampMs
        self.timestampType = timestampType
        self.key = key
        self.headers = headers
        self.value = value
    }

    public func header(_ name: String) -> KafkaMessageHeader? {
        headers.last { $0.name == name }
    }
}
