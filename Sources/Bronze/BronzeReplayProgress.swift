import Avro
import Iceberg

/// A replay's progress as its commits record it in the snapshot summary, so a replay killed at any point
/// and run again with the same arguments continues after the last committed row and nothing else.
///
/// Keys (all under `k2.replay.`):
/// - `k2.replay.run-id`: identifies the replay (a hash of source, selection, table, style and shard);
/// - `k2.replay.source`: the source as given, for people reading the table history;
/// - `k2.replay.progress`: JSON object, position key → last position done (per stream: the last log
///   sequence; per Kafka partition: the last offset), cumulative over the run's commits;
/// - `k2.replay.end`: JSON object, position key → end position fixed at the run's first start (Kafka
///   `--until-end`), so a rerun stops where the first run would have;
/// - `k2.replay.rows`: rows committed by the run so far; `k2.replay.commit`: the run's commit number.
public struct BronzeReplayProgress: Sendable, Equatable {
    public static let runIdKey = "k2.replay.run-id"
    public static let sourceKey = "k2.replay.source"
    public static let progressKey = "k2.replay.progress"
    public static let endKey = "k2.replay.end"
    public static let rowsKey = "k2.replay.rows"
    public static let commitKey = "k2.replay.commit"

    public var runId: String
    public var source: String
    public var done: [String: Int64]
    public var end: [String: Int64]
    public var rows: Int64
    public var commits: Int64
    /// The snapshot these figures were read from (nil: the run has not committed yet).
    public var snapshotId: Int64?

    public init(runId: String, source: String, done: [String: Int64] = [:], end: [String: Int64] = [:],
                rows: Int64 = 0, commits: Int64 = 0, snapshotId: Int64? = nil) {
        self.runId = runId
        self.source = source
        self.done = done
        self.end = end
        self.rows = rows
        self.commits = commits
        self.snapshotId = snapshotId
    }

    /// A run id from the arguments that decide which rows a run writes: FNV-1a-64 in hex.
    public static func runId(_ parts: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part.utf8 + [0] {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The summary keys of a commit.
    public func summary() -> [String: String] {
        [Self.runIdKey: runId, Self.sourceKey: source, Self.progressKey: Self.encode(done), Self.endKey: Self.encode(end),
         Self.rowsKey: String(rows), Self.commitKey: String(commits)]
    }

    /// The latest progress of `runId` on the table's main branch (walking back from the current snapshot
    /// through its ancestors, past other writers' snapshots), or nil when the run never committed.
    public static func latest(in table: Table, runId: String) throws -> BronzeReplayProgress? {
        let metadata = table.metadata
        var next = metadata.currentSnapshot
        var seen = Set<Int64>()
        while let snapshot = next, seen.insert(snapshot.snapshotId).inserted {
            if snapshot.summary[runIdKey] == runId { return try parse(snapshot, table: table) }
            next = snapshot.parentSnapshotId.flatMap { metadata.snapshot(id: $0) }
        }
        return nil
    }

    static func parse(_ snapshot: Snapshot, table: Table) throws -> BronzeReplayProgress {
        func map(_ key: String) throws -> [String: Int64] {
            guard let text = snapshot.summary[key] else { return [:] }
            guard let json = try? JSONValue.parse(Array(text.utf8)), let members = json.objectValue else {
                throw IcebergError.invalidMetadata("table \(table.identifier), snapshot \(snapshot.snapshotId): \(key) is not a JSON object: \(text)")
            }
            var out: [String: Int64] = [:]
            for (name, value) in members {
                guard let number = value.int64Value else {
                    throw IcebergError.invalidMetadata("table \(table.identifier), snapshot \(snapshot.snapshotId): \(key).\(name) is not a number")
                }
                out[name] = number
            }
            return out
        }
        return BronzeReplayProgress(
            runId: snapshot.summary[runIdKey] ?? "", source: snapshot.summary[sourceKey] ?? "",
            done: try map(progressKey), end: try map(endKey),
            rows: snapshot.summary[rowsKey].flatMap(Int64.init) ?? 0,
            commits: snapshot.summary[commitKey].flatMap(Int64.init) ?? 0, snapshotId: snapshot.snapshotId)
    }

    static func encode(_ map: [String: Int64]) -> String {
        JSONValue.object(map.keys.sorted().map { ($0, .int(map[$0]!)) }).serialized()
    }
}
