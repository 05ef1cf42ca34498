import Foundation

/// Where a replay reads: a segment-log directory, or a Kafka topic `kafka://HOST:PORT/TOPIC`.
public enum ReplayOrigin: Equatable, Sendable {
    case segmentLog(directory: String)
    case kafka(bootstrap: String, topic: String)
}
