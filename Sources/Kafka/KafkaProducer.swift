import Glibc
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

/// What the delivery reports of one tracked partition said so far: how many messages were acknowledged and
/// the offset of the last one. Reports of one partition arrive in produce order, so with an idempotent
/// producer `delivered` counts a prefix of what was sent there.
public struct PartitionDelivery: Sendable, Equatable {
    public var delivered: Int
    public var lastOffset: Int64
    /// A report of this partition said "failed": counting stopped there, because a later success (possible
    /// when a batch times out, which the gapless guarantee does not cover) would no longer count a prefix.
    public var failed = false

    public init(delivered: Int = 0, lastOffset: Int64 = -1) {
        self.delivered = delivered
        self.lastOffset = lastOffset
    }
}

/// Delivery-report counters, read and written only on the producing thread (librdkafka calls the delivery
/// callback from `rd_kafka_poll`/`rd_kafka_flush`). Plain memory reached through the configuration's opaque,
/// so counting a report costs no reference counting.
struct DeliveryCounts {
    var delivered = 0
    var failed = 0
    /// Per tracked partition (see `KafkaProducer.trackDeliveries`); a message's opaque is its index + 1.
    var partitions: UnsafeMutablePointer<PartitionDelivery>?
    var partitionCount = 0

    /// Counts one acknowledged message; `opaque` 0 is an untracked message.
    @inline(__always)
    mutating func countDelivery(opaque: UnsafeMutableRawPointer?, offset: Int64) {
        delivered += 1
        let index = Int(bitPattern: opaque)
        if index > 0 && index <= partitionCount && !partitions![index - 1].failed {
            partitions![index - 1].delivered += 1
            partitions![index - 1].lastOffset = offset
        }
    }

    mutating func countFailure(opaque: UnsafeMutableRawPointer?) {
        failed += 1
        let index = Int(bitPattern: opaque)
        if index > 0 && index <= partitionCount { partitions![index - 1].failed = true }
    }
}

/// What only failures and report handlers need, kept apart from the counters. The producer's opaque, so it is
/// also the client context the log callback reads.
final class DeliveryTally: KafkaClientContext {
    let counts = UnsafeMutablePointer<DeliveryCounts>.allocate(capacity: 1)
    var firstError: KafkaError?
    var handler: ((KafkaDeliveryReport) -> Void)?

    override init(logHandler: (@Sendable (KafkaLogLine) -> Void)?) {
        counts.initialize(to: DeliveryCounts())
        super.init(logHandler: logHandler)
    }
    deinit {
        counts.pointee.partitions?.deallocate()
        counts.deallocate()
    }
}

/// A topic resolved once (librdkafka's topic handle), so producing to it costs no name look-up.
public struct KafkaTopic {
    public let name: String
    let handle: OpaquePointer
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
        let tally = DeliveryTally(logHandler: config.logHandler)
        tally.handler = onDelivery
        self.tally = tally
        vus.initialize(repeating: rd_kafka_vu_t(), count: 8)
        let conf = try config.makeNative()
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(tally).toOpaque())
        if onDelivery == nil {
            // The common case: count, and keep the first error; nothing per report beyond two loads and a store.
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                guard let message, let opaque else { return }
                let err = message.pointee.err
                if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    Unmanaged<DeliveryTally>.fromOpaque(opaque)._withUnsafeGuaranteedRef {
                        $0.counts.pointee.countDelivery(opaque: message.pointee._private, offset: message.pointee.offset)
                    }
                } else {
                    Unmanaged<DeliveryTally>.fromOpaque(opaque)._withUnsafeGuaranteedRef { KafkaProducer.failed(message, $0) }
                }
            }
        } else {
            rd_kafka_conf_set_dr_msg_cb(conf) { _, message, opaque in
                guard let message, let opaque else { return }
                let tally = Unmanaged<DeliveryTally>.fromOpaque(opaque).takeUnretainedValue()
                let m = message.pointee
                var error: KafkaError?
                if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                    tally.counts.pointee.countDelivery(opaque: m._private, offset: m.offset)
                } else {
                    error = KafkaProducer.failed(message, tally)
                }
                tally.handler?(KafkaDeliveryReport(opaque: Int(bitPattern: m._private), partition: m.partition,
                                                   offset: m.offset, error: error))
            }
        }
        client = try KafkaClientHandle(type: RD_KAFKA_PRODUCER, conf: conf, context: tally)
    }

    @discardableResult
    private static func failed(_ message: UnsafePointer<rd_kafka_message_t>, _ tally: DeliveryTally) -> KafkaError {
        let m = message.pointee
        tally.counts.pointee.countFailure(opaque: m._private)
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "?"
        let error = KafkaError(m.err, "delivery to \(topic) [\(m.partition)]")
        if tally.firstError == nil { tally.firstError = error }
        return error
    }

    deinit {
        for handle in topicHandles.values { rd_kafka_topic_destroy(handle) }
        topicHandles.removeAll()
        vus.deallocate()
    }

    public var deliveredCount: Int { tally.counts.pointee.delivered }
    public var failedCount: Int { tally.counts.pointee.failed }
    public var firstError: KafkaError? { tally.firstError }
    /// Messages produced whose delivery report has not been served yet.
    public var outstanding: Int { Int(rd_kafka_outq_len(client.rk)) }

    /// Starts per-partition delivery tracking: tally `i` begins at `initial[i]` (e.g. what a checkpoint said)
    /// and counts the messages produced with `tally: i`. Replaces earlier tracking; call before producing.
    public func trackDeliveries(_ initial: [PartitionDelivery]) {
        let counts = tally.counts
        counts.pointee.partitions?.deallocate()
        let buffer = UnsafeMutablePointer<PartitionDelivery>.allocate(capacity: Swift.max(1, initial.count))
        buffer.initialize(from: initial, count: initial.count)
        counts.pointee.partitions = buffer
        counts.pointee.partitionCount = initial.count
    }

    /// What the delivery reports served so far say about tracked partition `index`.
    public func delivery(tally index: Int) -> PartitionDelivery {
        precondition(index >= 0 && index < tally.counts.pointee.partitionCount, "untracked partition tally \(index)")
        return tally.counts.pointee.partitions![index]
    }

    /// The cluster id from metadata (nil when the brokers are too old to report one).
    public func clusterId(timeoutMs: Int32 = 10_000) -> String? {
        client.clusterId(timeoutMs: timeoutMs)
    }

    /// The handle of `name`, made on first use and kept for the producer's life.
    public func topic(_ name: String) throws -> KafkaTopic {
        if let handle = topicHandles[name] { return KafkaTopic(name: name, handle: handle) }
        guard let handle = rd_kafka_topic_new(client.rk, name, nil) else {
            throw KafkaError(rd_kafka_last_error(), "topic handle \(name)")
        }
        topicHandles[name] = handle
        return KafkaTopic(name: name, handle: handle)
    }

    /// Queues one message. `partition` nil lets the configured partitioner choose (keyed: CRC32 of the key);
    /// `timestampMs` nil stamps the produce time. Waits (serving delivery reports) while the local queue is full.
    public func produce(topic: String, partition: Int32? = nil, key: UnsafeRawBufferPointer?,
                        value: UnsafeRawBufferPointer?, timestampMs: Int64? = nil,
                        headers: [KafkaMessageHeader] = [], opaque: Int = 0) throws {
        var headerList: OpaquePointer?
        if !headers.isEmpty {
            headerList = rd_kafka_headers_new(headers.count)
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
        }
        try produce(to: try self.topic(topic), partition: partition, key: key, value: value, timestampMs: timestampMs,
                    headerList: headerList, opaque: opaque)
    }

    /// The hot path: one message to a resolved topic, with at most one header (`header.name` a C string, such as
    /// a `StaticString`'s, valid for the call). Copies key, value and header; allocates nothing on the Swift side.
    /// `tally` (see `trackDeliveries`) counts its delivery report per partition; -1 counts it only in the totals.
    @inline(__always)
    public func produce(to topic: KafkaTopic, partition: Int32, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?,
                        timestampMs: Int64, header: (name: UnsafePointer<CChar>, value: UnsafeRawBufferPointer)? = nil,
                        tally: Int = -1) throws {
        var headerList: OpaquePointer?
        if let header {
            headerList = rd_kafka_headers_new(1)
            _ = rd_kafka_header_add(headerList, header.name, -1,
                                header.value.baseAddress ?? UnsafeRawPointer(bitPattern: 1), header.value.count)
        }
        try produce(to: topic, partition: partition, key: key, value: value, timestampMs: timestampMs,
                    headerList: headerList, opaque: tally + 1)
    }

    /// Builds the produceva arguments in the reused list; `headerList` is handed over (destroyed here on failure).
    private func produce(to topic: KafkaTopic, partition: Int32?, key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?,
                         timestampMs: Int64?, headerList: OpaquePointer?, opaque: Int) throws {
        let vus = self.vus
        var count = 0
        vus[count].vtype = RD_KAFKA_VTYPE_RKT; vus[count].u.rkt = topic.handle; count += 1
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
        if opaque != 0 {
            vus[count].vtype = RD_KAFKA_VTYPE_OPAQUE; vus[count].u.ptr = UnsafeMutableRawPointer(bitPattern: opaque); count += 1
        }
        if let headerList {
            vus[count].vtype = RD_KAFKA_VTYPE_HEADERS; vus[count].u.headers = headerList; count += 1
        }
        while true {
            let error = rd_kafka_produceva(client.rk, vus, count)
            guard let error else { break }
            let code = rd_kafka_error_code(error)
            rd_kafka_error_destroy(error)
            if code == RD_KAFKA_RESP_ERR__QUEUE_FULL {
                // The local queue is full: serve delivery reports (which free queue space) until one arrives.
                rd_kafka_poll(client.rk, 10)
                continue
            }
            if let headerList { rd_kafka_headers_destroy(headerList) }   // not taken over on failure
            throw KafkaError(code, "produce to \(topic.name) [\(partition.map(String.init) ?? "any")]")
        }
        producedSincePoll &+= 1
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

    /// Asks for `name`'s metadata, letting a broker with `auto.create.topics.enable` create it; its partition
    /// count, or nil when it does not exist. Polls a few times: an auto-created topic takes a moment to appear.
    public func requestTopic(_ name: String, timeoutMs: Int32 = 5_000) throws -> Int32? {
        for _ in 0..<10 {
            if let count = try client.requestTopic(name, timeoutMs: timeoutMs) { return count }
            usleep(200_000)
        }
        return nil
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
