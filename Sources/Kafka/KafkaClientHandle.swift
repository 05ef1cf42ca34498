import CRdKafka

/// Topic name → partition count, as a broker's metadata reports it.
public typealias KafkaTopicPartitions = [String: Int32]

/// Owns one `rd_kafka_t` and answers the questions every client asks (metadata, watermarks, topics).
final class KafkaClientHandle {
    let rk: OpaquePointer
    /// What the configuration's opaque points to: kept alive until after `rd_kafka_destroy`.
    private let context: AnyObject?

    init(type: rd_kafka_type_t, conf: OpaquePointer, context: AnyObject? = nil) throws {
        self.context = context
        var errorText = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(message: "cannot create client: \(String(cString: errorText))")
        }
        self.rk = rk   // rd_kafka_new owns conf from here on
    }

    deinit { rd_kafka_destroy(rk) }

    /// Every topic the cluster knows with its partition count (topics in error are left out).
    func topics(timeoutMs: Int32) throws -> KafkaTopicPartitions {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 1, nil, &metadata, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(err, "metadata request") }
        defer { rd_kafka_metadata_destroy(metadata) }
        var result: KafkaTopicPartitions = [:]
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            guard topic.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            result[String(cString: topic.topic)] = topic.partition_cnt
        }
        return result
    }

    /// The cluster id the brokers report in metadata; nil when they report none.
    func clusterId(timeoutMs: Int32) -> String? {
        // rd_kafka_clusterid only waits for metadata, and a new client asks for none until its 1 s timer fires (a
        // second of every backfill's start-up, seen with debug=broker); a metadata request connects at once.
        var metadata: UnsafePointer<rd_kafka_metadata>?
        if rd_kafka_metadata(rk, 0, nil, &metadata, timeoutMs) == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
            rd_kafka_metadata_destroy(metadata)
        }
        guard let id = rd_kafka_clusterid(rk, timeoutMs) else { return nil }
        defer { rd_kafka_mem_free(rk, id) }
        return String(cString: id)
    }

    func brokerCount(timeoutMs: Int32) throws -> Int {
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 0, nil, &metadata, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(err, "metadata request") }
        defer { rd_kafka_metadata_destroy(metadata) }
        return Int(metadata.pointee.broker_cnt)
    }

    /// Low (first kept) and high (next to be written) offsets of one partition, asked of its leader.
    func watermarks(topic: String, partition: Int32, timeoutMs: Int32) throws -> (low: Int64, high: Int64) {
        var low: Int64 = -1, high: Int64 = -1
        let err = rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "watermarks of \(topic) [\(partition)]") }
        return (low, high)
    }

    /// Asks for one topic's metadata, allowing the broker to create it (`auto.create.topics.enable`, which a
    /// producer's first send relies on too). The topic's partition count, or nil when it does not exist.
    func requestTopic(_ name: String, timeoutMs: Int32) throws -> Int32? {
        guard let handle = rd_kafka_topic_new(rk, name, nil) else { throw KafkaError(message: "topic handle for \(name)") }
        defer { rd_kafka_topic_destroy(handle) }
        var metadata: UnsafePointer<rd_kafka_metadata>?
        let err = rd_kafka_metadata(rk, 0, handle, &metadata, timeoutMs)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(err, "metadata request for \(name)") }
        defer { rd_kafka_metadata_destroy(metadata) }
        for index in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[index]
            if String(cString: topic.topic) == name, topic.err == RD_KAFKA_RESP_ERR_NO_ERROR, topic.partition_cnt > 0 {
                return topic.partition_cnt
            }
        }
        return nil
    }

    /// Creates a topic through the Admin API; an existing topic is not an error.
    func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32, config: [String: String],
                     timeoutMs: Int32) throws {
        var errorText = [CChar](repeating: 0, count: 512)
        guard let newTopic = rd_kafka_NewTopic_new(name, partitions, replicationFactor, &errorText, errorText.count) else {
            throw KafkaError(message: "create topic \(name): \(String(cString: errorText))")
        }
        defer { rd_kafka_NewTopic_destroy(newTopic) }
        for (key, value) in config {
            let err = rd_kafka_NewTopic_set_config(newTopic, key, value)
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "topic \(name) config \(key)") }
        }
        guard let queue = rd_kafka_queue_new(rk) else { throw KafkaError(message: "rd_kafka_queue_new failed") }
        defer { rd_kafka_queue_destroy(queue) }
        var topics: [OpaquePointer?] = [newTopic]
        rd_kafka_CreateTopics(rk, &topics, 1, nil, queue)
        guard let event = rd_kafka_queue_poll(queue, timeoutMs) else {
            throw KafkaError(message: "create topic \(name): no answer within \(timeoutMs) ms")
        }
        defer { rd_kafka_event_destroy(event) }
        if rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(rd_kafka_event_error(event), "create topic \(name)")
        }
        guard let result = rd_kafka_event_CreateTopics_result(event) else {
            throw KafkaError(message: "create topic \(name): unexpected admin event")
        }
        var count = 0
        guard let results = rd_kafka_CreateTopics_result_topics(result, &count) else { return }
        for index in 0..<count {
            let err = rd_kafka_topic_result_error(results[index])
            if err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS {
                throw KafkaError(err, "create topic \(name)")
            }
        }
    }
}
