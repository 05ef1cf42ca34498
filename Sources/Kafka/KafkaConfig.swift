import CRdKafka
import Foundation

/// librdkafka configuration as ordered `key=value` pairs (CONFIGURATION.md names), with `-X key=value`
/// passthrough from the command line. Values of secret keys are never printed (see `redactedDescription`).
public struct KafkaConfig: Sendable, CustomStringConvertible {
    public private(set) var entries: [(key: String, value: String)] = []

    /// Receives librdkafka's log lines (on librdkafka's threads), so a program prints them through its own
    /// log. When nil they go to stderr as librdkafka's default logger writes them.
    public var logHandler: (@Sendable (KafkaLogLine) -> Void)?

    public init(_ pairs: [(String, String)] = []) {
        for (key, value) in pairs { set(key, value) }
    }

    public subscript(key: String) -> String? {
        get { entries.last(where: { $0.key == key })?.value }
        set {
            if let newValue { set(key, newValue) } else { entries.removeAll { $0.key == key } }
        }
    }

    /// Sets `key`, replacing an earlier value (the last setting wins, as on librdkafka's command lines).
    public mutating func set(_ key: String, _ value: String) {
        entries.removeAll { $0.key == key }
        entries.append((key, value))
    }

    /// Sets `key` only if nothing set it yet: program defaults that `-X` may override.
    public mutating func setDefault(_ key: String, _ value: String) {
        if self[key] == nil { entries.append((key, value)) }
    }

    /// Keys whose values are credentials or private key material (one list: `KafkaProperties.isCredential`).
    public static func isSecret(_ key: String) -> Bool { KafkaProperties.isCredential(key) }

    /// `key=value, ...` with secret values replaced by `***`; safe to log.
    public var redactedDescription: String {
        entries.map { "\($0.key)=\(KafkaConfig.isSecret($0.key) ? "***" : $0.value)" }.joined(separator: ", ")
    }

    public var description: String { redactedDescription }

    /// A new `rd_kafka_conf_t` holding every entry; the caller owns it (until `rd_kafka_new` takes it).
    func makeNative() throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(message: "rd_kafka_conf_new failed") }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in entries {
            let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
            if result != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                let shown = KafkaConfig.isSecret(key) ? "***" : value
                throw KafkaError(message: "configuration \(key)=\(shown): \(String(cString: errorText))")
            }
        }
        rd_kafka_conf_set_log_cb(conf, KafkaConfig.log)
        return conf
    }

    /// librdkafka's log lines, to the client's log handler (found through its opaque, a `KafkaClientContext`)
    /// or else printed as its default logger does (`%LEVEL|SEC.MS|FACILITY|CLIENT| text`), except one known
    /// warning: every producer k2-replay makes sets `enable.gapless.guarantee` on purpose (docs/replay.md),
    /// and librdkafka warns on each start that the property is experimental.
    static let log: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = { rk, level, facility, text in
        guard let facility, let text else { return }
        if strcmp(facility, "CONFWARN") == 0 && strstr(text, "enable.gapless.guarantee is experimental") != nil { return }
        let name = rk.map { String(cString: rd_kafka_name($0)) } ?? ""
        if let rk, let opaque = rd_kafka_opaque(rk),
           let handler = Unmanaged<KafkaClientContext>.fromOpaque(opaque).takeUnretainedValue().logHandler {
            handler(KafkaLogLine(level: level, facility: String(cString: facility), message: String(cString: text), clientName: name))
            return
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let line = "%\(level)|\(now.tv_sec).\(String(format: "%03d", now.tv_nsec / 1_000_000))|\(String(cString: facility))|\(name)| \(String(cString: text))\n"
        fputs(line, stderr)
    }
}
