import CRdKafka

/// A librdkafka failure: the error code (when there is one) and a message naming what was being done.
public struct KafkaError: Error, CustomStringConvertible, Sendable {
    public let code: Int32?
    public let message: String

    public init(code: Int32? = nil, message: String) {
        self.code = code
        self.message = message
    }

    init(_ code: rd_kafka_resp_err_t, _ context: String) {
        self.code = code.rawValue
        self.message = "\(context): \(String(cString: rd_kafka_err2str(code))) (\(String(cString: rd_kafka_err2name(code))))"
    }

    public var description: String { "Kafka: \(message)" }
}
