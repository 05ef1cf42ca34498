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
    /// The consumer queue (every assigned partition's fetch queue is forwarded to it), for batch reads.
    private let queue: OpaquePointer
    /// Reused by `consumeBatch(max:timeoutMs:_:)`: the messages of one batch.
    private var batch: [UnsafeMutablePointer<rd_kafka_message_t>?] = []

    /// - Parameter bulkRead: a read of a range as fast as it can be processed (backfills, parity checks):
    ///   the prefetch queue is sized so librdkafka never stops fetching while the reader is busy (see
    ///   `bulkReadDefaults`). `-X` settings in `config` win over these defaults.
    public init(config: KafkaConfig, bulkRead: Bool = false) throws {
        var config = config
        config.setDefault("group.id", "k2-backfill")
        config.setDefault("enable.auto.commit", "false")
        config.setDefault("enable.auto.offset.store", "false")
        config.setDefault("enable.partition.eof", "true")
        config.setDefault("auto.offset.reset", "earliest")
        if bulkRead { Self.bulkReadDefaults(&config) }
        let conf = try config.makeNative()
        let context = KafkaClientContext(logHandler: config.logHandler)
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
        client = try KafkaClientHandle(type: RD_KAFKA_CONSUMER, conf: conf, context: context)
        rd_kafka_poll_set_consumer(client.rk)
        guard let queue = rd_kafka_queue_get_consumer(client.rk) else {
            throw KafkaError(message: "rd_kafka_queue_get_consumer failed")
        }
        self.queue = queue
    }

    deinit {
        rd_kafka_queue_destroy(queue)
        rd_kafka_consumer_close(client.rk)
    }

    /// Prefetch settings for bulk reads. Once the local queue holds `queued.min.messages` messages (or
    /// `queued.max.messages.kbytes`), librdkafka stops fetching and looks again only after a back-off that
    /// versions before 2.2 fix at 1 s (`fetch.queue.backoff.ms` from 2.2 on). With the defaults (100,000
    /// messages) a reader taking ~600,000 small records/s empties the queue in a sixth of that second and
    /// then waits: the measured Kafka → Iceberg backfill spent 60% of its wall time so. A queue of 1,000,000
    /// messages lasts a second at that rate; its cost is memory (librdkafka keeps ~300 bytes per small
    /// message: ~300 MB when full).
    public static func bulkReadDefaults(_ config: inout KafkaConfig) {
        config.setDefault("queued.min.messages", "1000000")
        config.setDefault("queued.max.messages.kbytes", "262144")
        if rd_kafka_version() >= 0x0202_00ff { config.setDefault("fetch.queue.backoff.ms", "50") }
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

    /// Errors a fetch reports that librdkafka recovers from by itself (it refreshes metadata, backs off and
    /// fetches the same offset again): the consumer's position does not move past them, so waiting loses
    /// nothing. Errors about the data (offset out of range, reset), the topic or authorization stay errors.
    static func isTransient(_ err: rd_kafka_resp_err_t) -> Bool {
        [RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT,
         RD_KAFKA_RESP_ERR__RESOLVE, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
         RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE, RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE,
         RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR,
         RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH, RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH, RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE].contains(err)
    }

    /// Waits up to `timeoutMs` for the next message or end-of-partition event; nil when none came.
    /// Broker-side errors that librdkafka retries by itself (`isTransient`: transport, brokers down, not
    /// leader, timed out) are not returned: consuming simply waits; errors about the data are thrown.
    public func poll(timeoutMs: Int32) throws -> KafkaConsumerEvent? {
        guard let message = rd_kafka_consumer_poll(client.rk, timeoutMs) else { return nil }
        defer { rd_kafka_message_destroy(message) }
        let m = message.pointee
        if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
            return .endOfPartition(topic: topicName(m.rkt), partition: m.partition, offset: m.offset)
        }
        if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
            if Self.isTransient(m.err) { return nil }
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

    /// Hands every message and end-of-partition event that is ready (up to `max`) to `body` as a view into
    /// librdkafka's buffers: nothing is copied and nothing allocated per message (`KafkaMessageView.copy()`
    /// makes an owned `KafkaMessage` when one is needed). When nothing is ready it waits up to `timeoutMs`
    /// for the first message. Returns how many events `body` got (0: the wait was in vain). Errors as `poll`.
    @discardableResult
    public func consumeBatch(max: Int, timeoutMs: Int32, _ body: (KafkaConsumerEventView) throws -> Void) throws -> Int {
        if batch.count < max { batch = Array(repeating: nil, count: max) }
        var count = batch.withUnsafeMutableBufferPointer { rd_kafka_consume_batch_queue(queue, 0, $0.baseAddress, max) }
        if count == 0 {
            // librdkafka's batch call waits until the batch is full or the time is up: wait for one message only.
            count = batch.withUnsafeMutableBufferPointer { rd_kafka_consume_batch_queue(queue, timeoutMs, $0.baseAddress, 1) }
        }
        guard count >= 0 else {
            throw KafkaError(rd_kafka_last_error(), "consume batch")
        }
        var next = 0
        // Every message of the batch is destroyed, also when `body` throws part-way.
        defer { for index in next..<count { rd_kafka_message_destroy(batch[index]) } }
        var delivered = 0
        while next < count {
            let message = batch[next]!
            defer {
                rd_kafka_message_destroy(message)
                next += 1
            }
            let m = message.pointee
            if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                try body(.endOfPartition(partition: m.partition, offset: m.offset))
            } else if m.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if Self.isTransient(m.err) { continue }
                throw KafkaError(m.err, "consume \(topicName(m.rkt)) [\(m.partition)] at offset \(m.offset)")
            } else {
                try body(.message(KafkaMessageView(message: message, consumer: self)))
            }
            delivered += 1
        }
        return delivered
    }

    func topicName(_ rkt: OpaquePointer?) -> String {
        guard let rkt else { return "" }
        if let name = topicNames[rkt] { return name }
        let name = String(cString: rd_kafka_topic_name(rkt))
        topicNames[rkt] = name
        return name
    }

    func copyMessage(_ message: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaMessage {
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

    /// The cluster id the brokers report in metadata; nil when they report none.
    public func clusterId(timeoutMs: Int32 = 10_000) -> String? {
        client.clusterId(timeoutMs: timeoutMs)
    }
}
