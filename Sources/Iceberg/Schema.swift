import Avro

/// A table schema: top-level fields with ids, a schema id, and identifier fields.
public struct Schema: Sendable, Equatable {
    public var schemaId: Int
    public var fields: [NestedField]
    public var identifierFieldIds: [Int]

    public init(schemaId: Int = 0, fields: [NestedField], identifierFieldIds: [Int] = []) {
        self.schemaId = schemaId
        self.fields = fields
        self.identifierFieldIds = identifierFieldIds
    }

    public var asStruct: StructType { StructType(fields: fields) }

    public func field(named name: String) -> NestedField? { fields.first(where: { $0.name == name }) }

    /// Any field, nested ones included, by id.
    public func field(id: Int) -> NestedField? {
        func search(_ fields: [NestedField]) -> NestedField? {
            for f in fields {
                if f.id == id { return f }
                switch f.type {
                case .structType(let s): if let found = search(s.fields) { return found }
                case .list(let l):
                    if l.elementId == id { return NestedField(id: id, name: "element", type: l.element, required: l.elementRequired) }
                    if case .structType(let s) = l.element, let found = search(s.fields) { return found }
                case .map(let m):
                    if m.keyId == id { return NestedField(id: id, name: "key", type: m.key, required: true) }
                    if m.valueId == id { return NestedField(id: id, name: "value", type: m.value, required: m.valueRequired) }
                default: break
                }
            }
            return nil
        }
        return search(fields)
    }

    /// The largest field id in the schema (nested ids included), for `last-column-id`.
    public var highestFieldId: Int {
        func walk(_ t: IcebergType) -> Int {
            switch t {
            case .structType(let s): return s.fields.map { max($0.id, walk($0.type)) }.max() ?? 0
            case .list(let l): return max(l.elementId, walk(l.element))
            case .map(let m): return max(m.keyId, m.valueId, walk(m.key), walk(m.value))
            default: return 0
            }
        }
        return walk(.structType(asStruct))
    }

    /// Same columns, ids, types and nullability; the schema id does not matter.
    public func sameStructure(as other: Schema) -> Bool { fields == other.fields }

    public init(json: JSONValue) throws {
        self.init(schemaId: json["schema-id"]?.intValue ?? 0,
                  fields: try (json["fields"]?.arrayValue ?? []).map(NestedField.init(json:)),
                  identifierFieldIds: (json["identifier-field-ids"]?.arrayValue ?? []).compactMap(\.intValue))
    }

    public func toJSON() -> JSONValue {
        .object([("type", .string("struct")), ("schema-id", .int(Int64(schemaId))),
                 ("identifier-field-ids", .array(identifierFieldIds.map { .int(Int64($0)) })),
                 ("fields", .array(fields.map { $0.toJSON() }))])
    }
}

extension Schema {
    /// Why a table with this schema cannot take rows shaped as `expected`, naming the first column at
    /// fault; nil when every expected column exists with the same type and nullability. Columns are
    /// matched by name (ids may differ between tables created by different engines).
    public func mismatch(against expected: Schema) -> String? {
        for want in expected.fields {
            guard let have = field(named: want.name) else {
                return "column \(want.name) is missing (expected \(want.required ? "required" : "optional") \(want.type))"
            }
            if have.type != want.type {
                return "column \(want.name) is \(have.type), expected \(want.type)"
            }
            if have.required != want.required {
                return "column \(want.name) is \(have.required ? "required" : "optional"), expected \(want.required ? "required" : "optional")"
            }
        }
        for have in fields where have.required && expected.field(named: have.name) == nil {
            return "column \(have.name) is required but rows do not carry it"
        }
        return nil
    }
}
