import Avro

/// A table snapshot: the manifest list holding the table's data files at one point in time.
public struct Snapshot: Sendable, Equatable {
    public var snapshotId: Int64
    public var parentSnapshotId: Int64?
    public var sequenceNumber: Int64
    public var timestampMs: Int64
    public var manifestList: String
    /// `operation` and the summary properties (`added-records`, `total-records`, engine keys, ...).
    public var summary: [String: String]
    public var schemaId: Int?

    public init(snapshotId: Int64, parentSnapshotId: Int64?, sequenceNumber: Int64, timestampMs: Int64,
                manifestList: String, summary: [String: String], schemaId: Int?) {
        self.snapshotId = snapshotId
        self.parentSnapshotId = parentSnapshotId
        self.sequenceNumber = sequenceNumber
        self.timestampMs = timestampMs
        self.manifestList = manifestList
        self.summary = summary
        self.schemaId = schemaId
    }

    public var operation: String { summary["operation"] ?? "append" }

    public init(json: JSONValue) throws {
        guard let id = json["snapshot-id"]?.int64Value, let ts = json["timestamp-ms"]?.int64Value else {
            throw IcebergError.invalidMetadata("snapshot without snapshot-id or timestamp-ms")
        }
        guard let list = json["manifest-list"]?.stringValue else {
            // v1 tables may list manifests inline; we do not read those (Java has not written them since 0.x).
            throw IcebergError.invalidMetadata("snapshot \(id) has no manifest-list (inline manifests are not supported)")
        }
        var summary: [String: String] = [:]
        for (k, v) in json["summary"]?.objectValue ?? [] {
            summary[k] = v.stringValue ?? v.serialized()
        }
        self.init(snapshotId: id, parentSnapshotId: json["parent-snapshot-id"]?.int64Value,
                  sequenceNumber: json["sequence-number"]?.int64Value ?? 0, timestampMs: ts, manifestList: list,
                  summary: summary, schemaId: json["schema-id"]?.intValue)
    }

    public func toJSON(formatVersion: Int) -> JSONValue {
        var members: [(String, JSONValue)] = [("snapshot-id", .int(snapshotId))]
        if let p = parentSnapshotId { members.append(("parent-snapshot-id", .int(p))) }
        if formatVersion >= 2 { members.append(("sequence-number", .int(sequenceNumber))) }
        members.append(("timestamp-ms", .int(timestampMs)))
        members.append(("manifest-list", .string(manifestList)))
        // `operation` first, then the other keys sorted, so files diff well.
        var summaryMembers: [(String, JSONValue)] = [("operation", .string(operation))]
        for key in summary.keys.sorted() where key != "operation" { summaryMembers.append((key, .string(summary[key]!))) }
        members.append(("summary", .object(summaryMembers)))
        if let s = schemaId { members.append(("schema-id", .int(Int64(s)))) }
        return .object(members)
    }
}

/// A named reference to a snapshot (`main` is the table's current state).
public struct SnapshotRef: Sendable, Equatable {
    public var snapshotId: Int64
    /// `branch` or `tag`.
    public var type: String
    /// Retention settings and anything else, kept as read.
    public var extra: [(String, JSONValue)]

    public init(snapshotId: Int64, type: String = "branch", extra: [(String, JSONValue)] = []) {
        self.snapshotId = snapshotId
        self.type = type
        self.extra = extra
    }

    public static func == (a: SnapshotRef, b: SnapshotRef) -> Bool {
        a.snapshotId == b.snapshotId && a.type == b.type && JSONValue.object(a.extra) == JSONValue.object(b.extra)
    }
}

public struct SnapshotLogEntry: Sendable, Equatable {
    public var timestampMs: Int64
    public var snapshotId: Int64
}

public struct MetadataLogEntry: Sendable, Equatable {
    public var timestampMs: Int64
    public var metadataFile: String
}
