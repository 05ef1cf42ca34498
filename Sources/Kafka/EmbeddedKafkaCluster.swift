import CRdKafka

/// librdkafka's mock cluster: N brokers speaking the Kafka protocol on loopback sockets, served by
/// threads inside this process for as long as the object lives. Real clients (kcat, kafka-python,
/// other processes) connect to `bootstrap`. Faults come from the mock's own injection points.
public final class EmbeddedKafkaCluster {
    private let client: KafkaClientHandle
    private let cluster: OpaquePointer
    public let brokerCount: Int
    /// `HOST:PORT,HOST:PORT,...` of every broker.
    public let bootstrap: String

    public init(brokers: Int = 3) throws {
        var config = KafkaConfig()
        config.set("log_level", "3")    // the mock's own client: warnings only
        client = try KafkaClientHandle(type: RD_KAFKA_PRODUCER, conf: try config.makeNative())
        guard brokers > 0, let cluster = rd_kafka_mock_cluster_new(client.rk, Int32(brokers)) else {
            throw KafkaError(message: "cannot start a mock cluster of \(brokers) brokers")
        }
        self.cluster = cluster
        brokerCount = brokers
        bootstrap = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
    }

    deinit {
        rd_kafka_mock_cluster_destroy(cluster)
    }

    /// Broker ids are 1...brokerCount.
    public var brokerIds: ClosedRange<Int32> { 1...Int32(brokerCount) }

    /// Creates a topic; the replication factor is capped at the broker count.
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 3) throws {
        let replication = min(replicationFactor, Int32(brokerCount))
        let err = rd_kafka_mock_topic_create(cluster, name, partitions, replication)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "mock topic \(name)") }
    }

    /// Takes a broker down: its connections are closed and new ones refused until `setBrokerUp`.
    public func setBrokerDown(_ brokerId: Int32) throws {
        let err = rd_kafka_mock_broker_set_down(cluster, brokerId)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "broker \(brokerId) down") }
    }

    public func setBrokerUp(_ brokerId: Int32) throws {
        let err = rd_kafka_mock_broker_set_up(cluster, brokerId)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "broker \(brokerId) up") }
    }

    /// Makes the leader of a partition `brokerId` (to move partitions away from a broker taken down).
    public func setPartitionLeader(topic: String, partition: Int32, brokerId: Int32) throws {
        let err = rd_kafka_mock_partition_set_leader(cluster, topic, partition, brokerId)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, "leader of \(topic) [\(partition)]") }
    }

    /// The next requests with this API key (Kafka protocol number: Produce = 0, Fetch = 1, ...) fail
    /// with these error codes, one per request, on whichever broker receives them.
    public func pushRequestErrors(apiKey: Int16, errors: [Int32]) {
        var codes = errors.map { rd_kafka_resp_err_t(rawValue: $0) }
        rd_kafka_mock_push_request_errors_array(cluster, apiKey, codes.count, &codes)
    }

    public func clearRequestErrors(apiKey: Int16) {
        rd_kafka_mock_clear_request_errors(cluster, apiKey)
    }
}
