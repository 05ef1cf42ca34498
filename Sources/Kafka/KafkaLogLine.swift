/// One of librdkafka's log lines, handed to `KafkaConfig.logHandler` instead of being printed raw.
public struct KafkaLogLine: Sendable, Equatable {
    /// syslog severity as librdkafka gives it: 0 emergency ... 3 error, 4 warning, 5 notice, 6 info, 7 debug.
    public var level: Int32
    /// librdkafka's facility: `FAIL`, `CONFWARN`, `BROKERFAIL`, ...
    public var facility: String
    public var message: String
    /// The client's name (`rdkafka#producer-1`).
    public var clientName: String

    public init(level: Int32, facility: String, message: String, clientName: String) {
        self.level = level
        self.facility = facility
        self.message = message
        self.clientName = clientName
    }

    /// Error or worse (syslog 0 to 3).
    public var isError: Bool { level <= 3 }
    /// A warning (syslog 4).
    public var isWarning: Bool { level == 4 }
}
