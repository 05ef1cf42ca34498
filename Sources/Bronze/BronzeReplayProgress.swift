import Avro
import Iceberg
import K2Core

/// A replay's progress as its commits record it, so a replay killed at any point and run again with the
/// same arguments continues after the last committed row and nothing else.
///
/// Every commit records it twice, both atomically with the commit's rows:
/// - in the snapshot summary, keys under `k2.replay.`: `k2.replay.run-id` (identifies the replay: a hash of
///   source, selection, table, style and shard), `k2.replay.source` (the source as given, for people
///   reading the table history), `k2.replay.progress` (JSON object, position key → last position done: per
///   stream the last log sequence, per Kafka partition the last offset; cumulative over the run's commits),
///   `k2.replay.end` (JSON object, position key → end position fixed at the run's first start, Kafka
///   `--until-end`, so a rerun stops where the first run would have), `k2.replay.rows` (rows committed by
///   the run so far) and `k2.replay.commit` (the run's commit number);
/// - as table properties under the run's own prefix `k2.replay.<run-id>.` (`source`, `progress`, `end`,
///   `rows`, `commit`, same values), set by the same commit (`FastAppend`'s `properties`). Snapshots are
///   expired by routine maintenance and other writers' commits push the run's snapshot out of the
///   current one's ancestry, so the history alone can lose the progress; the properties stay with the
///   table's current metadata. Each run (and each shard) writes only its own keys.
///
/// Reading (`latest`) takes the properties, and walks the history only for runs recorded before the
/// properties existed (or by a writer that does not set them); when both are there the later commit wins.
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
    /// The snapshot these figures were read from (nil: read from the table properties, or the run has not
    /// committed yet). For messages only: `commits` identifies a recorded progress.
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
        FNV1a.hex(FNV1a.hash(fields: parts))
    }

    /// The summary keys of a commit.
    public func summary() -> [String: String] {
        [Self.runIdKey: runId, Self.sourceKey: source, Self.progressKey: Self.encode(done), Self.endKey: Self.encode(end),
         Self.rowsKey: String(rows), Self.commitKey: String(commits)]
    }

    /// The table properties of a commit: the summary's figures under `k2.replay.<run-id>.`.
    public func properties() -> [String: String] {
        let prefix = Self.propertyPrefix(runId)
        return [prefix + "source": source, prefix + "progress": Self.encode(done), prefix + "end": Self.encode(end),
                prefix + "rows": String(rows), prefix + "commit": String(commits)]
    }

    /// Where a run's table properties start: `k2.replay.<run-id>.`.
    public static func propertyPrefix(_ runId: String) -> String { "k2.replay.\(runId)." }

    /// The latest progress of `runId`: from the table properties, or for runs recorded without them from
    /// the main branch's history; the one with the later commit when both exist. Nil when the run never
    /// committed (or its only record was in snapshots since expired).
    public static func latest(in table: Table, runId: String) throws -> BronzeReplayProgress? {
        let recorded = try fromProperties(of: table, runId: runId)
        guard let walked = try fromHistory(of: table, runId: runId) else { return recorded }
        guard let recorded else { return walked }
        return walked.commits > recorded.commits ? walked : recorded
    }

    /// The progress in the table properties `k2.replay.<run-id>.*`, or nil when there is none.
    public static func fromProperties(of table: Table, runId: String) throws -> BronzeReplayProgress? {
        let prefix = propertyPrefix(runId)
        let properties = table.metadata.properties
        guard properties[prefix + "progress"] != nil else { return nil }
        return try parse({ properties[prefix + $0] }, runId: runId, snapshotId: nil,
                         place: "table \(table.identifier), property \(prefix)")
    }

    /// The latest progress of `runId` in the snapshot summaries of the main branch, walking back from the
    /// current snapshot through its ancestors (past other writers' snapshots) while they are still there.
    public static func fromHistory(of table: Table, runId: String) throws -> BronzeReplayProgress? {
        let metadata = table.metadata
        var next = metadata.currentSnapshot
        var seen = Set<Int64>()
        while let snapshot = next, seen.insert(snapshot.snapshotId).inserted {
            if snapshot.summary[runIdKey] == runId {
                let summary = snapshot.summary
                return try parse({ summary["k2.replay." + $0] }, runId: runId, snapshotId: snapshot.snapshotId,
                                 place: "table \(table.identifier), snapshot \(snapshot.snapshotId): k2.replay.")
            }
            next = snapshot.parentSnapshotId.flatMap { metadata.snapshot(id: $0) }
        }
        return nil
    }

    /// Reads the figures by key suffix (`progress`, `end`, `rows`, `commit`, `source`); `place` names where
    /// they come from in errors.
    static func parse(_ value: (String) -> String?, runId: String, snapshotId: Int64?, place: String) throws -> BronzeReplayProgress {
        func map(_ key: String) throws -> [String: Int64] {
            guard let text = value(key) else { return [:] }
            guard let json = try? JSONValue.parse(Array(text.utf8)), let members = json.objectValue else {
                throw IcebergError.invalidMetadata("\(place)\(key) is not a JSON object: \(text)")
            }
            var out: [String: Int64] = [:]
            for (name, number) in members {
                guard let number = number.int64Value else {
                    throw IcebergError.invalidMetadata("\(place)\(key): \(name) is not a number")
                }
                out[name] = number
            }
            return out
        }
        func count(_ key: String) throws -> Int64 {
            guard let text = value(key) else { return 0 }
            guard let number = Int64(text) else { throw IcebergError.invalidMetadata("\(place)\(key) is not a number: \(text)") }
            return number
        }
        return BronzeReplayProgress(runId: runId, source: value("source") ?? "", done: try map("progress"), end: try map("end"),
                                    rows: try count("rows"), commits: try count("commit"), snapshotId: snapshotId)
    }

    static func encode(_ map: [String: Int64]) -> String {
        JSONValue.object(map.keys.sorted().map { ($0, .int(map[$0]!)) }).serialized()
    }
}
