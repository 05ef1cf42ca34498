import Foundation

/// Java Iceberg on Spark as a test peer: `scripts/spark_peer.py` run with the Spark venv (`.venv-spark`,
/// made by `scripts/setup-spark.sh`). One call is one Spark session running every step in order; it
/// takes 30–60 s, so a test batches its Spark steps into as few calls as it can.
public enum SparkPeer {
    public static var python: String {
        TestEnvironment.repositoryRoot.appendingPathComponent(".venv-spark/bin/python").path
    }

    public static var script: String {
        TestEnvironment.repositoryRoot.appendingPathComponent("scripts/spark_peer.py").path
    }

    /// The Spark venv and a Java runtime are there.
    public static var isAvailable: Bool {
        FileManager.default.isExecutableFile(atPath: python) && FileManager.default.isExecutableFile(atPath: "/usr/bin/java")
    }

    /// The catalog object of a scenario: a JDBC catalog on SQLite or PostgreSQL, and a local warehouse.
    public static func catalog(uri: String, warehouse: String, user: String? = nil, password: String? = nil) -> [String: Any] {
        var object: [String: Any] = ["name": "k2", "uri": uri, "warehouse": warehouse]
        if let user { object["user"] = user }
        if let password { object["password"] = password }
        return object
    }

    public struct PeerError: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// The outcome of one session: each step's `result` object, in step order.
    public struct Run {
        public let results: [[String: Any]]
        public let seconds: Double
        public let stdout: String
        public func result(_ index: Int) -> [String: Any] { results[index] }
    }

    /// Runs `steps` in one Spark session against `catalog`; throws with the peer's error (and the end of
    /// its stderr) unless every step succeeded.
    public static func run(catalog: [String: Any], steps: [[String: Any]], namespace: String = "market_data") throws -> Run {
        let config: [String: Any] = ["catalog": catalog, "namespace": namespace, "steps": steps]
        let input = try JSONSerialization.data(withJSONObject: config)
        let result = try ProcessRunner.run(python, [script, "-"], stdin: input)
        let last = result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
        guard let object = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else {
            throw PeerError(description: "spark_peer printed no JSON (exit \(result.status)): \(result.stderrText.suffix(3000))")
        }
        guard result.status == 0, object["ok"] as? Bool == true else {
            throw PeerError(description: "spark_peer failed (exit \(result.status)): \(object["error"] ?? "?")\n\(result.stderrText.suffix(3000))")
        }
        let steps = object["steps"] as? [[String: Any]] ?? []
        return Run(results: steps.map { $0["result"] as? [String: Any] ?? [:] },
                   seconds: (object["seconds"] as? NSNumber)?.doubleValue ?? 0, stdout: result.stdoutText)
    }
}

/// What the `facts` op reports of a table, as Spark SQL reads it with deletes applied.
public struct SparkFacts {
    public struct Partition: Equatable {
        public var rows: Int
        public var distinctOffsets: Int
        public var minOffset: Int?
        public var maxOffset: Int?
        /// [first, last] ranges missing within the expected range (and gaps between held offsets).
        public var missing: [[Int]]
        /// [first, last, count]: runs of offsets held `count` times.
        public var duplicates: [[Int]]
        /// Rows outside the expected range (nil when no range was given).
        public var outsideExpected: Int?

        /// The offsets held, given the expected range the facts were asked with.
        public func held(_ expected: ClosedRange<Int>) -> Set<Int> {
            var set = Set(expected)
            for range in missing { set.subtract(range[0]...range[1]) }
            return set
        }
    }

    public var partitions: [Int: Partition]
    public var totalRows: Int
    public var positionDeleteFiles: Int
    public var equalityDeleteFiles: Int
    public var dataFiles: Int
    public var snapshots: Int
    public var snapshotId: Int64?
    public var metadataLocation: String
    public var raw: [String: Any]

    public init(_ object: [String: Any]) {
        raw = object
        func int(_ value: Any?) -> Int? { (value as? NSNumber)?.intValue }
        var parts: [Int: Partition] = [:]
        for (key, value) in object["partitions"] as? [String: [String: Any]] ?? [:] {
            guard let number = Int(key) else { continue }
            parts[number] = Partition(
                rows: int(value["rows"]) ?? -1, distinctOffsets: int(value["distinct_offsets"]) ?? -1,
                minOffset: int(value["min_offset"]), maxOffset: int(value["max_offset"]),
                missing: (value["missing"] as? [[NSNumber]] ?? []).map { $0.map(\.intValue) },
                duplicates: (value["duplicates"] as? [[NSNumber]] ?? []).map { $0.map(\.intValue) },
                outsideExpected: int(value["outside_expected"]))
        }
        partitions = parts
        totalRows = int(object["total_rows"]) ?? -1
        let deletes = object["delete_files"] as? [String: Any] ?? [:]
        positionDeleteFiles = int(deletes["position"]) ?? -1
        equalityDeleteFiles = int(deletes["equality"]) ?? -1
        dataFiles = int(object["data_files"]) ?? -1
        snapshots = int(object["snapshots"]) ?? -1
        snapshotId = (object["snapshot_id"] as? NSNumber)?.int64Value
        metadataLocation = object["metadata_location"] as? String ?? ""
    }
}

public enum OffsetRanges {
    /// Sorted offsets as [first, last] runs of consecutive offsets.
    public static func ranges(_ offsets: Set<Int>) -> [[Int]] {
        var out: [[Int]] = []
        for offset in offsets.sorted() {
            if let last = out.last, last[1] + 1 == offset { out[out.count - 1][1] = offset } else { out.append([offset, offset]) }
        }
        return out
    }
}
