import Avro

/// A table name within a catalog: namespace levels and the table's name (`market_data.bronze_x`).
public struct TableIdentifier: Hashable, Sendable, CustomStringConvertible {
    public var namespace: [String]
    public var name: String

    public init(namespace: [String], name: String) {
        self.namespace = namespace
        self.name = name
    }

    /// Parses `ns.table` or `a.b.table`: the last dot separates the name.
    public init(_ text: String) throws {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count >= 2, !parts.contains(where: \.isEmpty) else {
            throw IcebergError.invalidArgument("table name \"\(text)\" must be NAMESPACE.TABLE")
        }
        self.init(namespace: Array(parts.dropLast()), name: parts.last!)
    }

    public var namespaceName: String { namespace.joined(separator: ".") }
    public var description: String { (namespace + [name]).joined(separator: ".") }
}

/// A loaded table: its metadata, where that metadata lives, and the storage holding its files.
public struct Table: Sendable {
    public let identifier: TableIdentifier
    public let metadata: TableMetadata
    public let metadataLocation: String
    public let io: any FileIO

    public init(identifier: TableIdentifier, metadata: TableMetadata, metadataLocation: String, io: any FileIO) {
        self.identifier = identifier
        self.metadata = metadata
        self.metadataLocation = metadataLocation
        self.io = io
    }
}

/// The Iceberg catalog operations the tools need. Implementations: `SQLCatalog` (JDBC schema on SQLite
/// or PostgreSQL) and the REST catalog client.
public protocol Catalog: Sendable {
    /// The catalog's name (the JDBC schema's `catalog_name`).
    var name: String { get }
    func listNamespaces() async throws -> [[String]]
    func createNamespace(_ namespace: [String], properties: [String: String]) async throws
    func listTables(namespace: [String]) async throws -> [TableIdentifier]
    func loadTable(_ identifier: TableIdentifier) async throws -> Table
    /// Creates a table with ids as given in `schema` and `spec`; `location` defaults to the warehouse's.
    func createTable(_ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: SortOrder,
                     properties: [String: String], location: String?) async throws -> Table
    /// Applies `updates` to the table's current metadata if every requirement holds, and publishes the
    /// result atomically. Throws `IcebergError.commitConflict` when another writer got there first.
    func commitTable(_ table: Table, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table
}

extension Catalog {
    public func tableExists(_ identifier: TableIdentifier) async throws -> Bool {
        do {
            _ = try await loadTable(identifier)
            return true
        } catch IcebergError.noSuchTable {
            return false
        }
    }
}

/// A precondition of a commit (the REST spec's requirement types), checked against the latest metadata.
public enum TableRequirement: Sendable, Equatable {
    case assertTableUUID(String)
    /// The ref points at this snapshot (nil: the ref must not exist, as for a table's first append).
    case assertRefSnapshotId(ref: String, snapshotId: Int64?)
    case assertCurrentSchemaId(Int)
    case assertDefaultSpecId(Int)

    /// Why the requirement fails on `metadata`, or nil when it holds.
    public func failure(on metadata: TableMetadata) -> String? {
        switch self {
        case .assertTableUUID(let uuid):
            return metadata.tableUUID == uuid ? nil : "table UUID is \(metadata.tableUUID), expected \(uuid)"
        case .assertRefSnapshotId(let ref, let id):
            let current = metadata.refs[ref]?.snapshotId
            if current == id { return nil }
            return "branch \(ref) is at snapshot \(current.map(String.init) ?? "none"), expected \(id.map(String.init) ?? "none")"
        case .assertCurrentSchemaId(let id):
            return metadata.currentSchemaId == id ? nil : "current schema is \(metadata.currentSchemaId), expected \(id)"
        case .assertDefaultSpecId(let id):
            return metadata.defaultSpecId == id ? nil : "default partition spec is \(metadata.defaultSpecId), expected \(id)"
        }
    }
}

/// A change to table metadata (the REST spec's update types that the tools use).
public enum TableUpdate: Sendable, Equatable {
    case addSnapshot(Snapshot)
    case setSnapshotRef(name: String, snapshotId: Int64, type: String)
    case setProperties([String: String])
    case removeProperties([String])
}

extension TableMetadata {
    /// The metadata after `updates`, recording `previousLocation` in the metadata log (trimmed to
    /// `write.metadata.previous-versions-max`, default 100). `table` names the table in errors.
    public func applying(_ updates: [TableUpdate], table: TableIdentifier, previousLocation: String?, nowMs: Int64) throws -> TableMetadata {
        var m = self
        m.lastUpdatedMs = max(nowMs, lastUpdatedMs)
        for update in updates {
            switch update {
            case .addSnapshot(let s):
                guard m.snapshot(id: s.snapshotId) == nil else {
                    throw IcebergError.invalidArgument("table \(table): snapshot \(s.snapshotId) already exists")
                }
                if m.formatVersion >= 2 && s.sequenceNumber <= m.lastSequenceNumber && s.parentSnapshotId != nil {
                    throw IcebergError.invalidArgument("table \(table): snapshot \(s.snapshotId) has sequence number \(s.sequenceNumber), not after the table's last \(m.lastSequenceNumber)")
                }
                m.snapshots.append(s)
                m.lastSequenceNumber = max(m.lastSequenceNumber, s.sequenceNumber)
                m.lastUpdatedMs = max(m.lastUpdatedMs, s.timestampMs)
            case .setSnapshotRef(let name, let id, let type):
                guard let s = m.snapshot(id: id) else { throw IcebergError.noSuchSnapshot("\(id) in table \(table), for ref \(name)") }
                m.refs[name] = SnapshotRef(snapshotId: id, type: type, extra: m.refs[name]?.extra ?? [])
                if name == "main" {
                    m.currentSnapshotId = id
                    m.snapshotLog.append(SnapshotLogEntry(timestampMs: s.timestampMs, snapshotId: id))
                }
            case .setProperties(let props):
                for (k, v) in props { m.properties[k] = v }
            case .removeProperties(let keys):
                for k in keys { m.properties[k] = nil }
            }
        }
        if let previousLocation {
            m.metadataLog.append(MetadataLogEntry(timestampMs: lastUpdatedMs, metadataFile: previousLocation))
            let keep = Int(m.properties["write.metadata.previous-versions-max"] ?? "") ?? 100
            if m.metadataLog.count > max(keep, 1) { m.metadataLog.removeFirst(m.metadataLog.count - max(keep, 1)) }
        }
        return m
    }
}

extension TableRequirement {
    /// The REST catalog's JSON form of the requirement (Iceberg REST OpenAPI, `TableRequirement`).
    public func toJSON() -> JSONValue {
        switch self {
        case .assertTableUUID(let uuid):
            return .object([("type", .string("assert-table-uuid")), ("uuid", .string(uuid))])
        case .assertRefSnapshotId(let ref, let id):
            return .object([("type", .string("assert-ref-snapshot-id")), ("ref", .string(ref)), ("snapshot-id", id.map { .int($0) } ?? .null)])
        case .assertCurrentSchemaId(let id):
            return .object([("type", .string("assert-current-schema-id")), ("current-schema-id", .int(Int64(id)))])
        case .assertDefaultSpecId(let id):
            return .object([("type", .string("assert-default-spec-id")), ("default-spec-id", .int(Int64(id)))])
        }
    }
}

extension TableUpdate {
    /// The REST catalog's JSON form of the update (Iceberg REST OpenAPI, `TableUpdate`).
    public func toJSON(formatVersion: Int = 2) -> JSONValue {
        switch self {
        case .addSnapshot(let s):
            return .object([("action", .string("add-snapshot")), ("snapshot", s.toJSON(formatVersion: formatVersion))])
        case .setSnapshotRef(let name, let id, let type):
            return .object([("action", .string("set-snapshot-ref")), ("ref-name", .string(name)), ("snapshot-id", .int(id)),
                            ("type", .string(type))])
        case .setProperties(let props):
            return .object([("action", .string("set-properties")),
                            ("updates", .object(props.keys.sorted().map { ($0, .string(props[$0]!)) }))])
        case .removeProperties(let keys):
            return .object([("action", .string("remove-properties")), ("removals", .array(keys.map { .string($0) }))])
        }
    }
}
