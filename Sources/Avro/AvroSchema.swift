/// An Avro schema (Avro 1.11 specification, "Schema Declaration"), with the attributes Iceberg puts on
/// it: `field-id` on record fields, `element-id` on arrays, `key-id`/`value-id` on maps, and logical
/// types (`date`, `timestamp-micros`, `decimal`, `uuid`, and Iceberg's `map` for arrays of key/value
/// records). Attributes the model does not name are kept in `attributes` and printed back.
public indirect enum AvroSchema: Sendable, Equatable {
    case null
    case boolean
    case int(AvroAnnotations = .init())
    case long(AvroAnnotations = .init())
    case float
    case double
    case bytes(AvroAnnotations = .init())
    case string(AvroAnnotations = .init())
    case record(AvroRecordSchema)
    case enumeration(name: String, symbols: [String])
    case array(items: AvroSchema, AvroAnnotations = .init())
    case map(values: AvroSchema, AvroAnnotations = .init())
    case fixed(name: String, size: Int, AvroAnnotations = .init())
    case union([AvroSchema])

    /// `["null", schema]`, the shape Iceberg uses for every optional field.
    public static func optional(_ schema: AvroSchema) -> AvroSchema { .union([.null, schema]) }

    public var isNull: Bool { if case .null = self { return true }; return false }

    public var recordSchema: AvroRecordSchema? { if case .record(let r) = self { return r }; return nil }

    /// The non-null branch of a `["null", X]` union, or the schema itself.
    public var nonNull: AvroSchema {
        if case .union(let branches) = self, branches.count == 2, branches.contains(where: \.isNull) {
            return branches.first(where: { !$0.isNull })!
        }
        return self
    }

    public var annotations: AvroAnnotations {
        switch self {
        case .int(let a), .long(let a), .bytes(let a), .string(let a), .array(_, let a), .map(_, let a), .fixed(_, _, let a): return a
        default: return .init()
        }
    }
}

/// Logical type and other attributes on a schema node; `attributes` keeps the JSON members as written
/// (for example `precision`, `scale`, `element-id`, `adjust-to-utc`).
public struct AvroAnnotations: Sendable, Equatable {
    public var logicalType: String?
    public var attributes: [(String, JSONValue)]

    public init(logicalType: String? = nil, attributes: [(String, JSONValue)] = []) {
        self.logicalType = logicalType
        self.attributes = attributes
    }

    public subscript(key: String) -> JSONValue? {
        attributes.first(where: { $0.0 == key })?.1
    }

    public static func == (lhs: AvroAnnotations, rhs: AvroAnnotations) -> Bool {
        lhs.logicalType == rhs.logicalType && JSONValue.object(lhs.attributes) == JSONValue.object(rhs.attributes)
    }
}

public struct AvroRecordSchema: Sendable, Equatable {
    public var name: String
    public var namespace: String?
    public var doc: String?
    public var fields: [AvroField]

    public init(name: String, namespace: String? = nil, doc: String? = nil, fields: [AvroField]) {
        self.name = name
        self.namespace = namespace
        self.doc = doc
        self.fields = fields
    }

    public func index(ofField name: String) -> Int? { fields.firstIndex(where: { $0.name == name }) }

    /// The position of the field with an Iceberg `field-id`; falls back to `name` when the writer gave no ids.
    public func index(fieldId: Int, name: String) -> Int? {
        if let i = fields.firstIndex(where: { $0.fieldId == fieldId }) { return i }
        return fields.firstIndex(where: { $0.name == name && $0.fieldId == nil })
    }
}

public struct AvroField: Sendable, Equatable {
    public var name: String
    public var type: AvroSchema
    public var fieldId: Int?
    public var doc: String?
    public var defaultValue: JSONValue?
    /// Other attributes on the field, printed back as read.
    public var attributes: [(String, JSONValue)]

    public init(_ name: String, _ type: AvroSchema, fieldId: Int? = nil, doc: String? = nil,
                defaultValue: JSONValue? = nil, attributes: [(String, JSONValue)] = []) {
        self.name = name
        self.type = type
        self.fieldId = fieldId
        self.doc = doc
        self.defaultValue = defaultValue
        self.attributes = attributes
    }

    public static func == (lhs: AvroField, rhs: AvroField) -> Bool {
        lhs.name == rhs.name && lhs.type == rhs.type && lhs.fieldId == rhs.fieldId && lhs.doc == rhs.doc
            && lhs.defaultValue == rhs.defaultValue && JSONValue.object(lhs.attributes) == JSONValue.object(rhs.attributes)
    }
}

public struct AvroSchemaError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "Avro schema: \(message)" }
}

// MARK: - JSON

extension AvroSchema {
    public init(json text: String) throws {
        var names: [String: AvroSchema] = [:]
        self = try AvroSchema.parse(try JSONValue.parse(text), enclosingNamespace: nil, names: &names)
    }

    public init(json: JSONValue) throws {
        var names: [String: AvroSchema] = [:]
        self = try AvroSchema.parse(json, enclosingNamespace: nil, names: &names)
    }

    private static func fullName(_ name: String, _ namespace: String?) -> String {
        if name.contains(".") { return name }
        if let namespace, !namespace.isEmpty { return namespace + "." + name }
        return name
    }

    private static func primitive(_ name: String, _ annotations: AvroAnnotations) -> AvroSchema? {
        switch name {
        case "null": return .null
        case "boolean": return .boolean
        case "int": return .int(annotations)
        case "long": return .long(annotations)
        case "float": return .float
        case "double": return .double
        case "bytes": return .bytes(annotations)
        case "string": return .string(annotations)
        default: return nil
        }
    }

    private static let reservedKeys: Set<String> = [
        "type", "name", "namespace", "doc", "fields", "symbols", "items", "values", "size", "logicalType", "aliases", "default",
    ]

    private static func parse(_ json: JSONValue, enclosingNamespace: String?, names: inout [String: AvroSchema]) throws -> AvroSchema {
        switch json {
        case .string(let name):
            if let p = primitive(name, .init()) { return p }
            if let named = names[fullName(name, enclosingNamespace)] ?? names[name] { return named }
            throw AvroSchemaError("unknown type \"\(name)\"")
        case .array(let branches):
            return .union(try branches.map { try parse($0, enclosingNamespace: enclosingNamespace, names: &names) })
        case .object(let members):
            guard let type = json["type"] else { throw AvroSchemaError("schema object without \"type\"") }
            let extra = members.filter { !reservedKeys.contains($0.0) }
            let annotations = AvroAnnotations(logicalType: json["logicalType"]?.stringValue, attributes: extra)
            guard case .string(let typeName) = type else {
                // {"type": {...}} or {"type": [...]}: a wrapped schema.
                return try parse(type, enclosingNamespace: enclosingNamespace, names: &names)
            }
            if let p = primitive(typeName, annotations) { return p }
            switch typeName {
            case "record", "error":
                guard let name = json["name"]?.stringValue else { throw AvroSchemaError("record without a name") }
                let namespace = json["namespace"]?.stringValue ?? (name.contains(".") ? nil : enclosingNamespace)
                let full = fullName(name, namespace)
                let innerNamespace = name.contains(".") ? String(name[..<name.lastIndex(of: ".")!]) : namespace
                // Registered first so a field may refer to it; recursive records are not supported.
                names[full] = .record(AvroRecordSchema(name: name, namespace: json["namespace"]?.stringValue, fields: []))
                guard let fieldsJSON = json["fields"]?.arrayValue else { throw AvroSchemaError("record \(name) without fields") }
                var fields: [AvroField] = []
                for fieldJSON in fieldsJSON {
                    guard let fieldName = fieldJSON["name"]?.stringValue, let fieldType = fieldJSON["type"] else {
                        throw AvroSchemaError("record \(name): field without name or type")
                    }
                    let fieldExtra = (fieldJSON.objectValue ?? []).filter {
                        !["name", "type", "doc", "default", "field-id", "aliases", "order"].contains($0.0)
                    }
                    fields.append(AvroField(
                        fieldName, try parse(fieldType, enclosingNamespace: innerNamespace, names: &names),
                        fieldId: fieldJSON["field-id"]?.intValue, doc: fieldJSON["doc"]?.stringValue,
                        defaultValue: fieldJSON["default"], attributes: fieldExtra))
                }
                let record = AvroSchema.record(AvroRecordSchema(
                    name: name, namespace: json["namespace"]?.stringValue, doc: json["doc"]?.stringValue, fields: fields))
                names[full] = record
                return record
            case "enum":
                guard let name = json["name"]?.stringValue, let symbols = json["symbols"]?.arrayValue else {
                    throw AvroSchemaError("enum without name or symbols")
                }
                let e = AvroSchema.enumeration(name: name, symbols: symbols.compactMap(\.stringValue))
                names[fullName(name, json["namespace"]?.stringValue ?? enclosingNamespace)] = e
                return e
            case "array":
                guard let items = json["items"] else { throw AvroSchemaError("array without items") }
                return .array(items: try parse(items, enclosingNamespace: enclosingNamespace, names: &names), annotations)
            case "map":
                guard let values = json["values"] else { throw AvroSchemaError("map without values") }
                return .map(values: try parse(values, enclosingNamespace: enclosingNamespace, names: &names), annotations)
            case "fixed":
                guard let name = json["name"]?.stringValue, let size = json["size"]?.intValue, size >= 0 else {
                    throw AvroSchemaError("fixed without name or size")
                }
                let f = AvroSchema.fixed(name: name, size: size, annotations)
                names[fullName(name, json["namespace"]?.stringValue ?? enclosingNamespace)] = f
                return f
            default:
                if let named = names[fullName(typeName, enclosingNamespace)] ?? names[typeName] { return named }
                throw AvroSchemaError("unknown type \"\(typeName)\"")
            }
        default:
            throw AvroSchemaError("a schema must be a string, an array or an object")
        }
    }

    /// The schema as JSON, in the shape Java Iceberg writes (attributes after the standard members).
    public func toJSON() -> JSONValue {
        func annotated(_ type: String, _ a: AvroAnnotations) -> JSONValue {
            if a.logicalType == nil && a.attributes.isEmpty { return .string(type) }
            var members: [(String, JSONValue)] = [("type", .string(type))]
            if let l = a.logicalType { members.append(("logicalType", .string(l))) }
            members += a.attributes
            return .object(members)
        }
        switch self {
        case .null: return .string("null")
        case .boolean: return .string("boolean")
        case .int(let a): return annotated("int", a)
        case .long(let a): return annotated("long", a)
        case .float: return .string("float")
        case .double: return .string("double")
        case .bytes(let a): return annotated("bytes", a)
        case .string(let a): return annotated("string", a)
        case .record(let r):
            var members: [(String, JSONValue)] = [("type", .string("record")), ("name", .string(r.name))]
            if let ns = r.namespace { members.append(("namespace", .string(ns))) }
            if let doc = r.doc { members.append(("doc", .string(doc))) }
            members.append(("fields", .array(r.fields.map { field in
                var f: [(String, JSONValue)] = [("name", .string(field.name)), ("type", field.type.toJSON())]
                if let doc = field.doc { f.append(("doc", .string(doc))) }
                if let d = field.defaultValue { f.append(("default", d)) }
                if let id = field.fieldId { f.append(("field-id", .int(Int64(id)))) }
                f += field.attributes
                return .object(f)
            })))
            return .object(members)
        case .enumeration(let name, let symbols):
            return .object([("type", .string("enum")), ("name", .string(name)), ("symbols", .array(symbols.map { .string($0) }))])
        case .array(let items, let a):
            var members: [(String, JSONValue)] = [("type", .string("array")), ("items", items.toJSON())]
            if let l = a.logicalType { members.append(("logicalType", .string(l))) }
            return .object(members + a.attributes)
        case .map(let values, let a):
            var members: [(String, JSONValue)] = [("type", .string("map")), ("values", values.toJSON())]
            if let l = a.logicalType { members.append(("logicalType", .string(l))) }
            return .object(members + a.attributes)
        case .fixed(let name, let size, let a):
            var members: [(String, JSONValue)] = [("type", .string("fixed")), ("name", .string(name)), ("size", .int(Int64(size)))]
            if let l = a.logicalType { members.append(("logicalType", .string(l))) }
            return .object(members + a.attributes)
        case .union(let branches):
            return .array(branches.map { $0.toJSON() })
        }
    }
}
