import Foundation

/// librdkafka properties from the command line (`-X key=value`) and the environment, merged once for every
/// program. Credentials come from the environment only: arguments are seen by `ps`, shell history and logs.
/// A property `a.b.c` is read from the environment variable `K2_KAFKA_A_B_C` (upper-cased, `.` as `_`), for
/// secrets (`K2_KAFKA_SASL_PASSWORD`) and any other property alike; `-X` wins over the environment for a
/// property given both ways, and a secret given with `-X` is refused, naming the variable to use.
public enum KafkaProperties {
    public static let environmentPrefix = "K2_KAFKA_"

    /// Properties whose values are credentials or private keys: never accepted on the command line.
    public static func isCredential(_ key: String) -> Bool {
        let lowered = key.lowercased()
        if lowered.contains("password") || lowered.contains("secret") { return true }
        return ["ssl.key.pem", "ssl_key.pem", "sasl.oauthbearer.config", "ssl.keystore.key"].contains(lowered)
    }

    /// The environment variable that carries `key`: `sasl.password` → `K2_KAFKA_SASL_PASSWORD`.
    public static func environmentVariable(for key: String) -> String {
        environmentPrefix + String(key.uppercased().map { $0 == "." || $0 == "-" ? "_" : $0 })
    }

    /// The property an environment variable carries (`K2_KAFKA_SASL_PASSWORD` → `sasl.password`), or nil
    /// for a variable without the prefix. librdkafka's property names use dots, never underscores.
    public static func property(forEnvironmentVariable name: String) -> String? {
        guard name.hasPrefix(environmentPrefix), name.count > environmentPrefix.count else { return nil }
        return String(name.dropFirst(environmentPrefix.count).lowercased().map { $0 == "_" ? "." : $0 })
    }

    /// The properties of `K2_KAFKA_*` variables in `environment` (sorted by name), then the `-X key=value`
    /// arguments of `commandLine` in order (so they win). Throws on a malformed `-X` and on a credential
    /// given with `-X`; the error never contains the credential's value.
    public static func merged(commandLine: [String],
                              environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        for name in environment.keys.sorted() {
            guard let key = property(forEnvironmentVariable: name), let value = environment[name] else { continue }
            try refuseCredentialsInBrokers(key: key, value: value, source: name)
            result.append((key, value))
        }
        for argument in commandLine {
            guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else {
                let shown = argument.split(separator: "=", maxSplits: 1).first.map { isCredential(String($0)) ? "\($0)=***" : argument } ?? argument
                throw KafkaError(message: "-X expects key=value, got \"\(shown)\"")
            }
            let key = String(argument[..<equals])
            guard !isCredential(key) else {
                throw KafkaError(message: "-X \(key)=***: credentials are refused on the command line (ps, shell history and logs see arguments); set the environment variable \(environmentVariable(for: key)) instead")
            }
            let value = String(argument[argument.index(after: equals)...])
            try refuseCredentialsInBrokers(key: key, value: value, source: "-X \(key)")
            result.removeAll { $0.key == key }
            result.append((key, value))
        }
        return result
    }

    /// A broker list with user info (`user:secret@host:9092`) is refused: librdkafka logs broker addresses.
    static func refuseCredentialsInBrokers(key: String, value: String, source: String) throws {
        guard ["bootstrap.servers", "metadata.broker.list"].contains(key.lowercased()), value.contains("@") else { return }
        throw KafkaError(message: "\(source): credentials in broker addresses are refused (librdkafka logs them); set K2_KAFKA_SASL_PASSWORD instead")
    }

    /// A configuration holding `merged(commandLine:environment:)`, after the given defaults.
    public static func config(commandLine: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                              defaults: [(String, String)] = []) throws -> KafkaConfig {
        var config = KafkaConfig(defaults)
        for (key, value) in try merged(commandLine: commandLine, environment: environment) { config.set(key, value) }
        return config
    }
}
