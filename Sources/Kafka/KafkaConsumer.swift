import CRdKafka

/// What a consumer poll returns.
public enum KafkaConsumerEvent: Sendable {
    case message(KafkaMessage)
    /// The consumer has read everything up to `offset` (the high watermark at the time) of this partition.
    case endOfPartition(topic: String, partition: Int32, offset: Int64)
}

/// Where to start reading an assigned partition.
public enum KafkaStartOffset: Sendable, Equatable {
    case beginning, end, offset(Int64)

    var raw: Int64 {
        switch self {
        case .beginning: return Int64(RD_KAFKA_OFFSET_BEGINNING)
        case .end: return Int64(RD_KAFKA_OFFSET_END)
        case .offset(let offset): return offset
        }
    }
}

/// A consumer with manual partition assignment (no group rebalancing, no commits): backups and tail
/// reads know exactly which partitions and offsets they want. Use from one thread.
public final class KafkaConsumer {
    private let client: KafkaClientHandle
    private var topicNames: [OpaquePointer: String] = [:]

    public init(config: KafkaConfig) throws {
        var config = config
        config.setDefault("group.id", "k2-backfill")
        config.setDefault("enable.auto.commit", "false")
        config.setDefault("enable.auto.offset.store", "false")
        config.setDefault("enable.partition.eof", "true")
        config.setDefault("auto.offset.reset", "earliest")
        client = try KafkaClientHandle(type: RD_KAFKA_CONSUMER, conf: try config.makeNative())
        rd_kafka_poll_set_consumer(client.rk)
    }

    deinit {
        rd_kafka_consumer_close(client.rk)
    }

    /// Replaces the assignment with these partitions, each from its start offset.
    public func assign(_ partitions: [(topic: String, partition: Int32, start: KafkaStartOffset)]) throws {
        guard let list = rd_kafka_topic_partition_list_new(Int32(partitions.count)) else {
            throw KafkaError(message: "rd_kafka_topic_partition_list_new failed")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for entry in partitions {
            rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition)?.pointee.offset = entry.start.raw
        }
        let err = rd_kafka_assign(client.rk, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "assign \(partitions.count) partitions") }
    }

    /// The earliest offset of each partition whose timestamp is at or after `timestampMs`;
    /// nil for a partition with no such message (start at the end).
    public func offsetsForTimes(topic: String, partitions: [Int32], timestampMs: Int64,
                                timeoutMs: Int32 = 10_000) throws -> [Int32: Int64?] {
        guard let list = rd_kafka_topic_partition_list_new(Int32(partitions.count)) else {
            throw KafkaError(message: "rd_kafka_topic_partition_list_new failed")
        }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for partition in partitions {
            rd_kafka_topic_partition_list_add(list, topic, partition)?.pointee.offset = timestampMs
        }
        let err = rd_kafka_offsets_for_times(client.rk, list, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "offsets for time \(timestampMs) in \(topic)") }
        var result: [Int32: Int64?] = [:]
        for index in 0..<Int(list.pointee.cnt) {
            let element = list.pointee.elems[index]
            guard element.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(element.err, "offset for time \(timestampMs) in \(topic) [\(element.partition)]")
            }
            result[element.partition] = element.offset >= 0 ? element.offset : nil
        }
        return result
    }

    /// Waits up to `timeoutMs` for the next message or end-of-partition event; nil when none came.
    /// Broker-side errors that librdkafka retries by itself (transport, all brokers down) are not returned:
    /// consuming simply waits; errors about the data or the assignment are thrown.
    public func poll(timeoutMs: Int32) throws -> KafkaConsumerEvent? {
        guard let message = rd_kafka_consumer_poll(client.rk, timeoutMs) else { return nil }
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
            return .endOfPartition(topic: topicName(m.rkt), partition: m.partition, offset: m.offset)
        }
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            if m.err == RD_KAFKA_RESP_ERR__TRANSPORT || m.err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN { return nil }
            throw KafkaError(m.err, "consume \(topicName(m.rkt)) [\(m.partition)] at offset \(m.offset)")
        }
        return .message(copyMessage(message))
    }

    /// Polls until `max` events arrived or a poll waited `timeoutMs` in vain; returns the events.
    public func consumeBatch(max: Int, timeoutMs: Int32) throws -> [KafkaConsumerEvent] {
        var events: [KafkaConsumerEvent] = []
        while events.count < max, let event = try poll(timeoutMs: events.isEmpty ? timeoutMs : 0) {
            events.append(event)
        }
        return events
    }

    private func topicName(_ rkt: OpaquePointer?) -> String {
        guard let rkt else { return "" }
        if let name = topicNames[rkt] { return name }
        let name = String(cString: rd_kafka_topic_name(rkt))
        topicNames[rkt] = name
        return name
    }

    private func copyMessage(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaMessage {
        let m = message.pointee
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        let key: [UInt8]? = m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) }
        let value: [UInt8]? = m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) }
        var headers: [KafkaMessageHeader] = []
        var list: OpaquePointer?
        if rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
            var index = 0
            var name: UnsafePointer<CChar>?
            var pointer: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, index, &name, &pointer, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let bytes = pointer.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                headers.append(KafkaMessageHeader(name: name.map { String(cString: $0) } ?? "", value: bytes))
                index += 1
            }
        }
        return KafkaMessage(topic: topicName(m.rkt), partition: m.partition, offset: m.offset, timestampMs: timestamp,
                            timestampType: KafkaTimestampType(rawValue: Int8(timestampType.rawValue)) ?? .notAvailable,
                            key: key, headers: headers, value: value)
    }

    public func topics(timeoutMs: Int32 = 10_000) throws -> KafkaTopicPartitions {
        try client.topics(timeoutMs: timeoutMs)
    }

    public func watermarks(topic: String, partition: Int32, timeoutMs: Int32 = 10_000) throws -> (low: Int64, high: Int64) {
        try client.watermarks(topic: topic, partition: partition, timeoutMs: timeoutMs)
    }
}
