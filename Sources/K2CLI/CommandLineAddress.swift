import K2Core

/// Addresses typed on a command line, parsed once for all programs. Credentials never ride in them: a URL
/// with user info (`http://user:secret@host`) is refused with the secret blanked out, since arguments are
/// seen by `ps`, shell history and logs, and librdkafka logs the broker addresses it is given.
public enum CommandLineAddress {
    /// `url` with any user info replaced by `***`, safe to print.
    public static func redacted(_ url: String) -> String { URLUserInfo.redacted(url) }

    /// Throws when `url` carries user info; `instead` says where credentials go.
    public static func refuseCredentials(_ url: String, option: String, instead: String) throws {
        guard URLUserInfo.of(url) != nil else { return }
        throw UsageError("\(option) \(redacted(url)): credentials in the URL are refused (they would be printed and logged); \(instead)")
    }

    /// Throws when a broker list (`--bootstrap HOST:PORT[,...]`) carries user info (`user:secret@host`).
    public static func refuseCredentials(inBrokers list: String, option: String) throws {
        guard URLUserInfo.inBrokerList(list) else { return }
        throw UsageError("""
            \(option) \(URLUserInfo.redactedBrokerList(list)): credentials in broker addresses are refused (librdkafka \
            would log them and resolve them as a host name); give SASL settings with -X and the password in \
            K2_KAFKA_SASL_PASSWORD
            """)
    }
}

/// A Kafka topic on a cluster: `kafka://HOST:PORT[,HOST:PORT...]/TOPIC`.
public struct KafkaTopicAddress: Equatable, Sendable, CustomStringConvertible {
    public var bootstrap: String
    public var topic: String

    public init(bootstrap: String, topic: String) {
        self.bootstrap = bootstrap
        self.topic = topic
    }

    /// nil when `text` is not a `kafka://` address at all; throws when it is one but malformed.
    public init?(parsing text: String, option: String) throws {
        guard text.hasPrefix("kafka://") else { return nil }
        try CommandLineAddress.refuseCredentials(
            text, option: option, instead: "give SASL settings with -X (sasl.mechanism, sasl.username, ...)")
        let rest = text.dropFirst("kafka://".count)
        guard let slash = rest.firstIndex(of: "/") else { throw UsageError("\(option) \(text): expected kafka://HOST:PORT/TOPIC") }
        let bootstrap = String(rest[..<slash]), topic = String(rest[rest.index(after: slash)...])
        guard !bootstrap.isEmpty, !topic.isEmpty, !topic.contains("/") else {
            throw UsageError("\(option) \(text): expected kafka://HOST:PORT/TOPIC")
        }
        self.init(bootstrap: bootstrap, topic: topic)
    }

    public var description: String { "kafka://\(bootstrap)/\(topic)" }
}

/// A command-line value that cannot be used (exit 2).
public struct UsageError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
