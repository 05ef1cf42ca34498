import Avro
import Codecs
import Foundation

/// A table's metadata file (table spec, "Table Metadata"): v2 read and written, v1 read.
///
/// Members the model does not name (statistics, partition statistics, v3 additions we do not use) are
/// kept in `extra` and written back, so a commit by us never drops what another engine recorded.
public struct TableMetadata: Sendable {
    public var formatVersion: Int
    public var tableUUID: String
    public var location: String
    public var lastSequenceNumber: Int64
    public var lastUpdatedMs: Int64
    public var lastColumnId: Int
    public var schemas: [Schema]
    public var currentSchemaId: Int
    public var partitionSpecs: [PartitionSpec]
    public var defaultSpecId: Int
    public var lastPartitionId: Int
    public var properties: [String: String]
    public var currentSnapshotId: Int64?
    public var snapshots: [Snapshot]
    public var snapshotLog: [SnapshotLogEntry]
    public var metadataLog: [MetadataLogEntry]
    public var sortOrders: [SortOrder]
    public var defaultSortOrderId: Int
    public var refs: [String: SnapshotRef]
    public var extra: [(String, JSONValue)]

    public var currentSchema: Schema {
        schemas.first(where: { $0.schemaId == currentSchemaId }) ?? schemas.last!
    }
    public var defaultSpec: PartitionSpec {
        partitionSpecs.first(where: { $0.specId == defaultSpecId }) ?? partitionSpecs.last ?? .unpartitioned
    }
    public var defaultSortOrder: SortOrder {
        sortOrders.first(where: { $0.orderId == defaultSortOrderId }) ?? .unsorted
    }
    public var currentSnapshot: Snapshot? {
        guard let id = currentSnapshotId else { return nil }
        return snapshot(id: id)
    }
    public func snapshot(id: Int64) -> Snapshot? { snapshots.first(where: { $0.snapshotId == id }) }
    public func schema(id: Int) -> Schema? { schemas.first(where: { $0.schemaId == id }) }

    /// The field with this id in `preferred` (the schema being read), else in any schema of the table: a delete
    /// file may compare a field a later schema dropped.
    public func field(id: Int, preferring preferred: Schema) -> NestedField? {
        preferred.field(id: id) ?? schemas.lazy.compactMap { $0.field(id: id) }.first
    }
    public func spec(id: Int) -> PartitionSpec? { partitionSpecs.first(where: { $0.specId == id }) }

    /// The snapshot that was current at `timestampMs`, from the snapshot log.
    public func snapshot(asOf timestampMs: Int64) -> Snapshot? {
        let entry = snapshotLog.last(where: { $0.timestampMs <= timestampMs })
        return entry.flatMap { snapshot(id: $0.snapshotId) }
    }

    /// Metadata for a new, empty table. Field ids in the schema and spec are taken as given.
    public static func new(location: String, schema: Schema, spec: PartitionSpec, sortOrder: SortOrder,
                           properties: [String: String], formatVersion: Int = 2) -> TableMetadata {
        var schema = schema
        schema.schemaId = 0
        var spec = spec
        spec.specId = 0
        var order = sortOrder
        order.orderId = sortOrder.fields.isEmpty ? 0 : 1
        return TableMetadata(
            formatVersion: formatVersion, tableUUID: UUID().uuidString.lowercased(), location: location,
            lastSequenceNumber: 0, lastUpdatedMs: Int64(Date().timeIntervalSince1970 * 1000),
            lastColumnId: schema.highestFieldId, schemas: [schema], currentSchemaId: 0, partitionSpecs: [spec],
            defaultSpecId: 0, lastPartitionId: spec.lastAssignedFieldId, properties: properties, currentSnapshotId: nil,
            snapshots: [], snapshotLog: [], metadataLog: [], sortOrders: order.fields.isEmpty ? [.unsorted] : [order],
            defaultSortOrderId: order.orderId, refs: [:], extra: [])
    }

}

extension TableMetadata {
    // MARK: JSON

    public init(json: JSONValue, location: String) throws {
        guard let version = json["format-version"]?.intValue else {
            throw IcebergError.corruptFile(location: location, message: "metadata has no format-version")
        }
        guard version == 1 || version == 2 else { throw IcebergError.unsupportedFormatVersion(version, location: location) }
        func require<T>(_ value: T?, _ key: String) throws -> T {
            guard let value else { throw IcebergError.corruptFile(location: location, message: "metadata has no valid \"\(key)\"") }
            return value
        }
        do {
            formatVersion = version
            tableUUID = json["table-uuid"]?.stringValue ?? UUID().uuidString.lowercased()
            self.location = try require(json["location"]?.stringValue, "location")
            lastSequenceNumber = json["last-sequence-number"]?.int64Value ?? 0
            lastUpdatedMs = try require(json["last-updated-ms"]?.int64Value, "last-updated-ms")
            lastColumnId = try require(json["last-column-id"]?.intValue, "last-column-id")
            if let list = json["schemas"]?.arrayValue {
                schemas = try list.map(Schema.init(json:))
                currentSchemaId = json["current-schema-id"]?.intValue ?? schemas.first?.schemaId ?? 0
            } else {
                schemas = [try Schema(json: try require(json["schema"], "schema"))]
                currentSchemaId = schemas[0].schemaId
            }
            guard !schemas.isEmpty else { throw IcebergError.corruptFile(location: location, message: "metadata has no schema") }
            if let specs = json["partition-specs"]?.arrayValue {
                partitionSpecs = try specs.map(PartitionSpec.init(json:))
                defaultSpecId = json["default-spec-id"]?.intValue ?? partitionSpecs.first?.specId ?? 0
            } else {
                partitionSpecs = [try PartitionSpec(json: json["partition-spec"] ?? .array([]))]
                defaultSpecId = 0
            }
            lastPartitionId = json["last-partition-id"]?.intValue ?? (partitionSpecs.flatMap(\.fields).map(\.fieldId).max() ?? 999)
            var props: [String: String] = [:]
            for (k, v) in json["properties"]?.objectValue ?? [] { props[k] = v.stringValue ?? v.serialized() }
            properties = props
            let current = json["current-snapshot-id"]?.int64Value
            currentSnapshotId = (current == nil || current == -1) ? nil : current
            snapshots = try (json["snapshots"]?.arrayValue ?? []).map(Snapshot.init(json:))
            snapshotLog = (json["snapshot-log"]?.arrayValue ?? []).compactMap { e in
                guard let ts = e["timestamp-ms"]?.int64Value, let id = e["snapshot-id"]?.int64Value else { return nil }
                return SnapshotLogEntry(timestampMs: ts, snapshotId: id)
            }
            metadataLog = (json["metadata-log"]?.arrayValue ?? []).compactMap { e in
                guard let ts = e["timestamp-ms"]?.int64Value, let f = e["metadata-file"]?.stringValue else { return nil }
                return MetadataLogEntry(timestampMs: ts, metadataFile: f)
            }
            sortOrders = try (json["sort-orders"]?.arrayValue ?? []).map(SortOrder.init(json:))
            if sortOrders.isEmpty { sortOrders = [.unsorted] }
            defaultSortOrderId = json["default-sort-order-id"]?.intValue ?? 0
            var refs: [String: SnapshotRef] = [:]
            for (name, r) in json["refs"]?.objectValue ?? [] {
                guard let id = r["snapshot-id"]?.int64Value else { continue }
                refs[name] = SnapshotRef(snapshotId: id, type: r["type"]?.stringValue ?? "branch",
                                         extra: (r.objectValue ?? []).filter { $0.0 != "snapshot-id" && $0.0 != "type" })
            }
            if refs["main"] == nil, let current = currentSnapshotId { refs["main"] = SnapshotRef(snapshotId: current) }
            // A pointer to a snapshot the metadata does not hold would read as an empty table: a reader that
            // trusted it would report every row missing, a writer would fail its commits as conflicts.
            let known = Set(snapshots.map(\.snapshotId))
            if let current = currentSnapshotId, !known.contains(current) {
                throw IcebergError.corruptFile(location: location, message: "current-snapshot-id \(current) names no snapshot of the metadata (\(snapshots.count) snapshot(s))")
            }
            if let main = refs["main"], !known.contains(main.snapshotId) {
                throw IcebergError.corruptFile(location: location, message: "ref main names snapshot \(main.snapshotId), which the metadata does not hold")
            }
            self.refs = refs
            let knownKeys: Set<String> = [
                "format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms", "last-column-id",
                "schema", "schemas", "current-schema-id", "partition-spec", "partition-specs", "default-spec-id",
                "last-partition-id", "properties", "current-snapshot-id", "snapshots", "snapshot-log", "metadata-log",
                "sort-orders", "default-sort-order-id", "refs",
            ]
            extra = (json.objectValue ?? []).filter { !knownKeys.contains($0.0) }
        } catch let error as IcebergError {
            if case .invalidMetadata(let m) = error { throw IcebergError.corruptFile(location: location, message: m) }
            throw error
        }
    }

    public func toJSON() -> JSONValue {
        var m: [(String, JSONValue)] = [
            ("format-version", .int(Int64(formatVersion))),
            ("table-uuid", .string(tableUUID)),
            ("location", .string(location)),
        ]
        if formatVersion >= 2 { m.append(("last-sequence-number", .int(lastSequenceNumber))) }
        m.append(("last-updated-ms", .int(lastUpdatedMs)))
        m.append(("last-column-id", .int(Int64(lastColumnId))))
        if formatVersion == 1 { m.append(("schema", currentSchema.toJSON())) }
        m.append(("schemas", .array(schemas.map { $0.toJSON() })))
        m.append(("current-schema-id", .int(Int64(currentSchemaId))))
        if formatVersion == 1 { m.append(("partition-spec", defaultSpec.fieldsJSON())) }
        m.append(("partition-specs", .array(partitionSpecs.map { $0.toJSON() })))
        m.append(("default-spec-id", .int(Int64(defaultSpecId))))
        m.append(("last-partition-id", .int(Int64(lastPartitionId))))
        m.append(("properties", .object(properties.keys.sorted().map { ($0, .string(properties[$0]!)) })))
        m.append(("current-snapshot-id", .int(currentSnapshotId ?? -1)))
        m.append(("refs", .object(refs.keys.sorted().map { name in
            let r = refs[name]!
            return (name, .object([("snapshot-id", .int(r.snapshotId)), ("type", .string(r.type))] + r.extra))
        })))
        m.append(("snapshots", .array(snapshots.map { $0.toJSON(formatVersion: formatVersion) })))
        m.append(("snapshot-log", .array(snapshotLog.map {
            .object([("timestamp-ms", .int($0.timestampMs)), ("snapshot-id", .int($0.snapshotId))])
        })))
        m.append(("metadata-log", .array(metadataLog.map {
            .object([("timestamp-ms", .int($0.timestampMs)), ("metadata-file", .string($0.metadataFile))])
        })))
        m.append(("sort-orders", .array(sortOrders.map { $0.toJSON() })))
        m.append(("default-sort-order-id", .int(Int64(defaultSortOrderId))))
        return .object(m + extra)
    }

    // MARK: Files

    /// Parses a metadata file's bytes; gzip-compressed files (`*.gz.metadata.json`, `*.metadata.json.gz`,
    /// or any file starting with the gzip magic) are inflated first.
    public static func parse(_ bytes: [UInt8], location: String) throws -> TableMetadata {
        var data = bytes
        if data.count >= 2, data[0] == 0x1F, data[1] == 0x8B {
            do {
                data = try BlockCompressor().decompress(data, codec: .gzip(level: 6))
            } catch {
                throw IcebergError.corruptFile(location: location, message: "gzip-compressed metadata: \(error)")
            }
        }
        let json: JSONValue
        do {
            json = try JSONValue.parse(data)
        } catch {
            throw IcebergError.corruptFile(location: location, message: "metadata is not valid JSON: \(error)")
        }
        return try TableMetadata(json: json, location: location)
    }

    /// The file's bytes: JSON, gzip-compressed when `write.metadata.compression-codec` is `gzip`.
    public func serialized() throws -> [UInt8] {
        let text = Array(toJSON().serialized().utf8)
        if metadataCompressed { return try BlockCompressor().compress(text, codec: .gzip(level: 6)) }
        return text
    }

    var metadataCompressed: Bool { properties["write.metadata.compression-codec"]?.lowercased() == "gzip" }

    /// Where the next metadata file goes: `<location>/metadata/<version>-<uuid>.metadata.json`, with the
    /// `.gz` infix Java uses when compressed. `previous` gives the version to follow.
    public func newMetadataLocation(previous: String?) -> String {
        var version = 0
        if let previous {
            let name = previous.split(separator: "/").last.map(String.init) ?? ""
            if let dash = name.firstIndex(of: "-"), let v = Int(name[..<dash]) { version = v + 1 }
            else if name.hasPrefix("v"), let dot = name.firstIndex(of: "."), let v = Int(name.dropFirst().prefix(upTo: dot)) { version = v + 1 }
            else { version = metadataLog.count + 1 }
        }
        let base = properties["write.metadata.path"] ?? (location.hasSuffix("/") ? String(location.dropLast()) : location) + "/metadata"
        let suffix = metadataCompressed ? ".gz.metadata.json" : ".metadata.json"
        return "\(base)/\(String(format: "%05d", version))-\(UUID().uuidString.lowercased())\(suffix)"
    }

    public var metadataDirectory: String {
        properties["write.metadata.path"] ?? (location.hasSuffix("/") ? String(location.dropLast()) : location) + "/metadata"
    }

    public var dataDirectory: String {
        properties["write.data.path"] ?? (location.hasSuffix("/") ? String(location.dropLast()) : location) + "/data"
    }
}
