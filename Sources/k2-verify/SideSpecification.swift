import K2CLI
import Parity

/// A side as typed on the command line: `NAMESPACE.TABLE` (in `--catalog`), `kafka://HOST:PORT/TOPIC`,
/// or `log:DIR` (a segment log captured from Kafka).
enum SideSpecification: Equatable, CustomStringConvertible {
    case table(namespace: [String], name: String)
    case kafka(bootstrap: String, topic: String)
    case log(directory: String)

    init(parsing text: String) throws {
        let address: KafkaTopicAddress?
        do { address = try KafkaTopicAddress(parsing: text, option: "side") } catch { throw VerifyFailure("\(error)") }
        if let address {
            self = .kafka(bootstrap: address.bootstrap, topic: address.topic)
        } else if text.hasPrefix("log:") {
            let directory = String(text.dropFirst(4))
            guard !directory.isEmpty else { throw VerifyFailure("\(text): expected log:DIR") }
            self = .log(directory: directory)
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count >= 2, parts.allSatisfy({ !$0.isEmpty }) else {
                throw VerifyFailure("\(text): expected a table NAMESPACE.TABLE (e.g. market_data.bronze_binance_trades), kafka://HOST:PORT/TOPIC or log:DIR")
            }
            self = .table(namespace: Array(parts.dropLast()), name: parts.last!)
        }
    }

    var description: String {
        switch self {
        case .table(let namespace, let name): return (namespace + [name]).joined(separator: ".")
        case .kafka(let bootstrap, let topic): return "kafka://\(bootstrap)/\(topic)"
        case .log(let directory): return "log:\(directory)"
        }
    }
}

/// A reason the check could not be done (exit 2), naming what is at fault.
struct VerifyFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// `--partitions 0,1,4-7`.
enum PartitionListParser {
    static func parse(_ text: String) throws -> Set<Int32> {
        var result = Set<Int32>()
        for item in text.split(separator: ",") {
            let bounds = item.split(separator: "-", maxSplits: 1).map { Int32($0.trimmingCharacters(in: .whitespaces)) }
            if bounds.count == 1, let value = bounds[0], value >= 0 {
                result.insert(value)
            } else if bounds.count == 2, let low = bounds[0], let high = bounds[1], low >= 0, low <= high {
                result.formUnion(low...high)
            } else {
                throw VerifyFailure("--partitions \(text): expected numbers and ranges like 0,1,4-7")
            }
        }
        guard !result.isEmpty else { throw VerifyFailure("--partitions: empty list") }
        return result
    }
}
