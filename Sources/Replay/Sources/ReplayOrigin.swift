import Foundation
import K2CLI

/// Where a replay reads: a segment-log directory, or a Kafka topic `kafka://HOST:PORT/TOPIC`.
public enum ReplayOrigin: Equatable, Sendable {
    case segmentLog(directory: String)
    case kafka(bootstrap: String, topic: String)

    /// Parses `--from`: a `kafka://` address, else an existing log directory (made canonical).
    public init(argument: String) throws {
        do {
            if let address = try KafkaTopicAddress(parsing: argument, option: "--from") {
                self = .kafka(bootstrap: address.bootstrap, topic: address.topic)
                return
            }
        } catch {
            throw ReplayError.usage("\(error)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ReplayError.usage("--from \(argument): no such log directory")
        }
        // The canonical path: the provenance of every record hashes it, so resume works from any working directory.
        self = .segmentLog(directory: URL(fileURLWithPath: argument).resolvingSymlinksInPath().standardizedFileURL.path)
    }
}
