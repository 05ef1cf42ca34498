/// What librdkafka's callbacks reach through a client's opaque (`rd_kafka_opaque`): the log handler, and
/// for a producer its delivery tally (a subclass, so the delivery callback pays no extra indirection).
/// Kept alive by the client's handle until after `rd_kafka_destroy`.
class KafkaClientContext {
    let logHandler: (@Sendable (KafkaLogLine) -> Void)?

    init(logHandler: (@Sendable (KafkaLogLine) -> Void)?) {
        self.logHandler = logHandler
    }
}
