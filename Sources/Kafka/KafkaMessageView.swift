import CRdKafka

/// A consumed record still in librdkafka's buffers (`KafkaConsumer.consumeBatch`): valid only inside the
/// call that received it. Reading it copies and allocates nothing; `copy()` makes an owned `KafkaMessage`.
public struct KafkaMessageView {
    let message: UnsafeMutablePointer<rd_kafka_message_t>
    unowned(unsafe) let consumer: KafkaConsumer   // the view never outlives the consumeBatch call

    public var partition: Int32 { message.pointee.partition }
    public var offset: Int64 { message.pointee.offset }

    /// The record's timestamp (ms since the epoch; -1 when the record has none) and its type.
    public var timestamp: (ms: Int64, type: KafkaTimestampType) {
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ms = rd_kafka_message_timestamp(message, &type)
        return (ms, KafkaTimestampType(rawValue: Int8(type.rawValue)) ?? .notAvailable)
    }

    /// The value's bytes; nil for a null value (a tombstone), distinct from an empty one.
    public var value: UnsafeRawBufferPointer? {
        message.pointee.payload.map { UnsafeRawBufferPointer(start: $0, count: message.pointee.len) }
    }

    /// The key's bytes; nil for a null key.
    public var key: UnsafeRawBufferPointer? {
        message.pointee.key.map { UnsafeRawBufferPointer(start: $0, count: message.pointee.key_len) }
    }

    /// The record copied out (topic, key, headers, value), as `KafkaConsumer.poll` returns it.
    public func copy() -> KafkaMessage { consumer.copyMessage(message) }
}

/// What `KafkaConsumer.consumeBatch(max:timeoutMs:_:)` hands over, one event at a time.
public enum KafkaConsumerEventView {
    case message(KafkaMessageView)
    /// Everything up to `offset` (the high watermark at the time) of this partition of the assigned topic has been read.
    case endOfPartition(partition: Int32, offset: Int64)
}
