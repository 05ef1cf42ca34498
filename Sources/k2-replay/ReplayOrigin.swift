import Foundation
import K2CLI

/// Where `--from` reads: a segment-log directory, or (later) a Kafka topic `kafka://HOST:PORT/TOPIC`.
enum ReplayOrigin: Equatable {
    case segmentLog(directory: String)
    case kafka(bootstrap: String, topic: String)

    init(argument: String) throws {
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

/// Failures that end a replay, each mapped to an exit code.
enum ReplayError: Error, CustomStringConvertible {
    case usage(String)       // exit 2
    case unusable(String)    // exit 2: cannot reach or read
    case failed(String)      // exit 1: undelivered, corrupt

    var description: String {
        switch self {
        case .usage(let text), .unusable(let text), .failed(let text): return text
        }
    }
}
