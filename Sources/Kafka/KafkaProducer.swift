import CRdKafka

/// The outcome of one produced message, as its delivery report tells it.
public struct KafkaDeliveryReport: Sendable {
    /// The `opaque` given to `produce`, to tie the report back to what was sent.
    public var opaque: Int
    public var partition: Int32
    public var offset: Int64
    /// nil when delivered.
    public var error: KafkaError?
}

/// Counts delivery reports; librdkafka calls back into it from `rd_kafka_poll`/`rd_kafka_flush` on the
/// producing thread, so it needs no lock.
final class DeliveryTally {
    var delivered = 0
    var failed = 0
    var firstError: KafkaError?
    var handler: ((KafkaDeliveryReport) -> Void)?
}

/// A producer over librdkafka: idempotent, `acks=all`, lz4 by default (any of them overridable with `-X`),
/// every delivery report counted. Use from one thread.
public final class KafkaProducer {
    private let client: KafkaClientHandle
    private let tally: DeliveryTally
    /// The produceva argument list, reused for every message (no per-message allocation).
    private let vus = UnsafeMutablePointer<rd_kafka_vu_t>.allocate(capacity: 8)
    private var topicHandles: [String: OpaquePointer] = [:]
    private var producedSincePoll = 0
    public let config: KafkaConfig

    /// `onDelivery` sees each report (on the thread calling `produce`, `poll` or `flush`).
    public init(config: KafkaConfig, onDelivery: ((KafkaDeliveryReport) -> Void)? = nil) throws {
        var config = config
        config.setDefault("enable.idempotence", "true")
        config.setDefault("acks", "all")
        config.setDefault("compression.type", "lz4")
        config.setDefault("linger.ms", "5")
        self.config = config
        let tally = DeliveryTally()
        tally.handler = onDelivery
        self.tally = tally
        vus.initialize(repeating: rd_kafka_vu_t(), count: 8)
        let conf = try config.makeNative()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(tally).toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
            guard let message, let opaque else { return }
            let tally = Unmanaged<DeliveryTally>.fromOpaque(opaque).takeUnretainedValue()
            let m = message.pointee
            var error: KafkaError?
            if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                tally.delivered += 1
            } else {
                tally.failed += 1
                let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
                error = KafkaError(m.err, "delivery to \(topic) [\(m.partition)]")
                if tally.firstError == nil { tally.firstError = error }
            }
            if let handler = tally.handler {
                handler(KafkaDeliveryReport(opaque: Int(bitPattern: m._private), partition: m.partition,
                                            offset: m.offset, error: error))
            }
        }
        client = try KafkaClientHandle(type: RD_KAFKA_PRODUCER, conf: conf, context: tally)
    }

    deinit {
        for handle in topicHandles.values { rd_kafka_topic_destroy(handle) }
        topicHandles.removeAll()
        vus.deallocate()
    }

    public var deliveredCount: Int { tally.delivered }
    public var failedCount: Int { tally.failed }
    public var firstError: KafkaError? { tally.firstError }
    /// Messages produced whose delivery report has not been served yet.
    public var outstanding: Int { Int(rd_kafka_outq_len(client.rk)) }

    private var lastTopic = ""
    private var lastTopicHandle: OpaquePointer?

    private func topicHandle(_ topic: String) throws -> OpaquePointer {
        if let lastTopicHandle, topic == lastTopic { return lastTopicHandle }
        if let handle = topicHandles[topic] {
            lastTopic = topic
            lastTopicHandle = handle
            return handle
        }
        guard let handle = rd_kafka_topic_new(client.rk, topic, nil) else {
            throw KafkaError(rd_kafka_last_error(), "topic handle \(topic)")
        }
        topicHandles[topic] = handle
        return handle
    }

    /// Queues one message. `partition` nil lets the configured partitioner choose (keyed: CRC32 of the key);
    /// `timestampMs` nil stamps the produce time. Waits (serving delivery reports) while the local queue is full.
    public func produce(topic: String, partition: Int32? = nil, key: UnsafeRawBufferPointer?,
                        value: UnsafeRawBufferPointer?, timestampMs: Int64? = nil,
                        headers: [KafkaMessageHeader] = [], extraHeader: (name: String, value: UnsafeRawBufferPointer)? = nil,
                        opaque: Int = 0) throws {
        let rkt = try topicHandle(topic)
        var count = 0
        vus[count].vtype = RD_KAFKA_VTYPE_RKT; vus[count].u.rkt = rkt; count += 1
        vus[count].vtype = RD_KAFKA_VTYPE_PARTITION; vus[count].u.i32 = partition ?? RD_KAFKA_PARTITION_UA; count += 1
        vus[count].vtype = RD_KAFKA_VTYPE_MSGFLAGS; vus[count].u.i = RD_KAFKA_MSG_F_COPY; count += 1
        vus[count].vtype = RD_KAFKA_VTYPE_VALUE
        vus[count].u.mem.ptr = value.flatMap { UnsafeMutableRawPointer(mutating: $0.baseAddress) }
        vus[count].u.mem.size = value?.count ?? 0
        count += 1
        if let key {
            vus[count].vtype = RD_KAFKA_VTYPE_KEY
            // A zero-length key must still be non-NULL to stay an empty (not null) key.
            vus[count].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress ?? UnsafeRawPointer(bitPattern: 1))
            vus[count].u.mem.size = key.count
            count += 1
        }
        if let timestampMs {
            vus[count].vtype = RD_KAFKA_VTYPE_TIMESTAMP; vus[count].u.i64 = timestampMs; count += 1
        }
        vus[count].vtype = RD_KAFKA_VTYPE_OPAQUE; vus[count].u.ptr = UnsafeMutableRawPointer(bitPattern: opaque); count += 1
        var headerList: OpaquePointer?
        if !headers.isEmpty || extraHeader != nil {
            headerList = rd_kafka_headers_new(headers.count + 1)
            for header in headers {
                var name = header.name
                name.withUTF8 { nameBytes in
                    nameBytes.withMemoryRebound(to: CChar.self) { nameChars in
                        if let value = header.value {
                            value.withUnsafeBytes { valueBytes in
                                _ = rd_kafka_header_add(headerList, nameChars.baseAddress, nameChars.count,
                                                        valueBytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), valueBytes.count)
                            }
                        } else {
                            _ = rd_kafka_header_add(headerList, nameChars.baseAddress, nameChars.count, nil, 0)
                        }
                    }
                }
            }
            if let extraHeader {
                var name = extraHeader.name
                name.withUTF8 { nameBytes in
                    nameBytes.withMemoryRebound(to: CChar.self) { nameChars in
                        _ = rd_kafka_header_add(headerList, nameChars.baseAddress, nameChars.count,
                                                extraHeader.value.baseAddress ?? UnsafeRawPointer(bitPattern: 1), extraHeader.value.count)
                    }
                }
            }
            vus[count].vtype = RD_KAFKA_VTYPE_HEADERS; vus[count].u.headers = headerList; count += 1
        }
        while true {
            let error = rd_kafka_produceva(client.rk, vus, count)
            guard let error else { break }
            let code = rd_kafka_error_code(error)
            rd_kafka_error_destroy(error)
            if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                rd_kafka_poll(client.rk, 10)
                continue
            }
            if let headerList { rd_kafka_headers_destroy(headerList) }   // not taken over on failure
            throw KafkaError(code, "produce to \(topic) [\(partition.map(String.init) ?? "any")]")
        }
        producedSincePoll += 1
        if producedSincePoll >= 256 {
            producedSincePoll = 0
            rd_kafka_poll(client.rk, 0)
        }
    }

    /// Convenience over byte arrays.
    public func produce(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8]?,
                        timestampMs: Int64? = nil, headers: [KafkaMessageHeader] = [], opaque: Int = 0) throws {
        func withOptional<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) throws -> R) rethrows -> R {
            guard let bytes else { return try body(nil) }
            return try bytes.withUnsafeBytes { try body($0) }
        }
        try withOptional(key) { keyBuffer in
            try withOptional(value) { valueBuffer in
                try produce(topic: topic, partition: partition, key: keyBuffer, value: valueBuffer,
                            timestampMs: timestampMs, headers: headers, opaque: opaque)
            }
        }
    }

    /// Serves pending delivery reports, waiting up to `timeoutMs` for one.
    public func poll(timeoutMs: Int32 = 0) {
        rd_kafka_poll(client.rk, timeoutMs)
    }

    /// Waits until every queued message has its delivery report, or the timeout passes.
    /// Returns true when nothing is outstanding.
    @discardableResult
    public func flush(timeoutMs: Int32) -> Bool {
        rd_kafka_flush(client.rk, timeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR && outstanding == 0
    }

    public func topics(timeoutMs: Int32 = 10_000) throws -> KafkaTopicPartitions {
        try client.topics(timeoutMs: timeoutMs)
    }

    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = -1, timeoutMs: Int32 = 10_000,
                            config: [String: String] = [:]) throws {
        try client.createTopic(name, partitions: partitions, replicationFactor: replicationFactor, config: config,
                               timeoutMs: timeoutMs)
    }

    public func watermarks(topic: String, partition: Int32, timeoutMs: Int32 = 10_000) throws -> (low: Int64, high: Int64) {
        try client.watermarks(topic: topic, partition: partition, timeoutMs: timeoutMs)
    }
}
