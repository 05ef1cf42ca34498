import Foundation
import K2CLI
import Replay

extension ReplayOrigin {
    /// Parses `--from`: a `kafka://` address, else an existing log directory (made canonical).
    init(argument: String) throws {
        do {
            if let address = try KafkaTopicAddress(parsing: argument, option: "--from") {
                self = .kafka(bootstrap: address.bootstrap, topic: address.topic)
                return
            }
        } catch {
            throw UsageError("\(error)")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError("--from \(argument): no such log directory")
        }
        // The canonical path: the provenance of every record hashes it, so resume works from any working directory.
        self = .segmentLog(directory: URL(fileURLWithPath: argument).resolvingSymlinksInPath().standardizedFileURL.path)
    }
}
