import Avro

public struct PartitionField: Sendable, Equatable {
    public var sourceId: Int
    public var fieldId: Int
    public var name: String
    public var transform: PartitionTransform

    public init(sourceId: Int, fieldId: Int, name: String, transform: PartitionTransform) {
        self.sourceId = sourceId
        self.fieldId = fieldId
        self.name = name
        self.transform = transform
    }

    func toJSON() -> JSONValue {
        .object([("name", .string(name)), ("transform", .string(transform.description)),
                 ("source-id", .int(Int64(sourceId))), ("field-id", .int(Int64(fieldId)))])
    }
}

/// How a table's rows are grouped into partitions; partition field ids start at 1000.
public struct PartitionSpec: Sendable, Equatable {
    public var specId: Int
    public var fields: [PartitionField]

    public init(specId: Int = 0, fields: [PartitionField] = []) {
        self.specId = specId
        self.fields = fields
    }

    public static let unpartitioned = PartitionSpec()

    public var isUnpartitioned: Bool { fields.allSatisfy { $0.transform == .void } }

    public var lastAssignedFieldId: Int { fields.map(\.fieldId).max() ?? 999 }

    /// The partition tuple's struct type for a schema.
    public func partitionType(schema: Schema) throws -> StructType {
        StructType(fields: try fields.map { f in
            guard let source = schema.field(id: f.sourceId) else {
                throw IcebergError.invalidMetadata("partition field \(f.name): no source column with id \(f.sourceId)")
            }
            return NestedField(id: f.fieldId, name: f.name, type: f.transform.resultType(for: source.type), required: false)
        })
    }

    /// The partition record schema as manifests carry it (record `r102`, every field optional).
    public func avroPartitionSchema(schema: Schema) throws -> AvroSchema {
        let type = try partitionType(schema: schema)
        return .record(AvroRecordSchema(name: "r102", fields: type.fields.map {
            AvroField($0.name, .optional($0.type.avroSchema()), fieldId: $0.id, defaultValue: .null)
        }))
    }

    /// The partition values of a row, given its column values by field id.
    public func partition(of row: [Int: IcebergValue]) throws -> [IcebergValue?] {
        try fields.map { try $0.transform.apply(row[$0.sourceId]) }
    }

    public init(json: JSONValue) throws {
        let fieldsJSON: [JSONValue]
        if case .array(let items) = json { fieldsJSON = items } else { fieldsJSON = json["fields"]?.arrayValue ?? [] }
        var nextId = 1000
        self.init(specId: json["spec-id"]?.intValue ?? 0, fields: try fieldsJSON.map { f in
            guard let sourceId = f["source-id"]?.intValue, let name = f["name"]?.stringValue,
                  let transform = f["transform"]?.stringValue else {
                throw IcebergError.invalidMetadata("partition field without source-id, name or transform")
            }
            // v1 specs may omit field ids: they are assigned from 1000 in order.
            let id = f["field-id"]?.intValue ?? nextId
            nextId = id + 1
            return PartitionField(sourceId: sourceId, fieldId: id, name: name, transform: try PartitionTransform(transform))
        })
    }

    public func toJSON() -> JSONValue {
        .object([("spec-id", .int(Int64(specId))), ("fields", fieldsJSON())])
    }

    /// The `fields` array alone, as the manifest's `partition-spec` metadata carries it.
    public func fieldsJSON() -> JSONValue { .array(fields.map { $0.toJSON() }) }
}

public struct SortField: Sendable, Equatable {
    public var sourceId: Int
    public var transform: PartitionTransform
    public var ascending: Bool
    public var nullsFirst: Bool

    public init(sourceId: Int, transform: PartitionTransform = .identity, ascending: Bool = true, nullsFirst: Bool = true) {
        self.sourceId = sourceId
        self.transform = transform
        self.ascending = ascending
        self.nullsFirst = nullsFirst
    }
}

public struct SortOrder: Sendable, Equatable {
    public var orderId: Int
    public var fields: [SortField]

    public init(orderId: Int = 0, fields: [SortField] = []) {
        self.orderId = orderId
        self.fields = fields
    }

    public static let unsorted = SortOrder()

    public init(json: JSONValue) throws {
        self.init(orderId: json["order-id"]?.intValue ?? 0, fields: try (json["fields"]?.arrayValue ?? []).map { f in
            guard let sourceId = f["source-id"]?.intValue else { throw IcebergError.invalidMetadata("sort field without source-id") }
            return SortField(sourceId: sourceId, transform: try PartitionTransform(f["transform"]?.stringValue ?? "identity"),
                             ascending: f["direction"]?.stringValue != "desc",
                             nullsFirst: f["null-order"]?.stringValue != "nulls-last")
        })
    }

    public func toJSON() -> JSONValue {
        .object([("order-id", .int(Int64(orderId))), ("fields", .array(fields.map { f in
            .object([("transform", .string(f.transform.description)), ("source-id", .int(Int64(f.sourceId))),
                     ("direction", .string(f.ascending ? "asc" : "desc")),
                     ("null-order", .string(f.nullsFirst ? "nulls-first" : "nulls-last"))])
        }))])
    }
}
