import Foundation
import Avro

/// An Iceberg data type (table spec, "Schemas and Data Types").
public indirect enum IcebergType: Sendable, Equatable, CustomStringConvertible {
    case boolean, int, long, float, double
    case decimal(precision: Int, scale: Int)
    case date, time
    /// Microseconds since the epoch, without and with zone (UTC-adjusted).
    case timestamp, timestamptz
    case timestampNs, timestamptzNs
    case string, uuid
    case fixed(Int)
    case binary
    case structType(StructType)
    case list(ListType)
    case map(MapType)

    public var isPrimitive: Bool {
        switch self {
        case .structType, .list, .map: return false
        default: return true
        }
    }

    /// The spec's type string for primitives (`decimal(9,2)`, `fixed[16]`); nested types print as JSON.
    public var description: String {
        switch self {
        case .boolean: return "boolean"
        case .int: return "int"
        case .long: return "long"
        case .float: return "float"
        case .double: return "double"
        case .decimal(let p, let s): return "decimal(\(p), \(s))"
        case .date: return "date"
        case .time: return "time"
        case .timestamp: return "timestamp"
        case .timestamptz: return "timestamptz"
        case .timestampNs: return "timestamp_ns"
        case .timestamptzNs: return "timestamptz_ns"
        case .string: return "string"
        case .uuid: return "uuid"
        case .fixed(let n): return "fixed[\(n)]"
        case .binary: return "binary"
        case .structType, .list, .map: return toJSON().serialized()
        }
    }

    static func primitive(named raw: String) -> IcebergType? {
        let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
        switch name {
        case "boolean": return .boolean
        case "int", "integer": return .int
        case "long": return .long
        case "float": return .float
        case "double": return .double
        case "date": return .date
        case "time": return .time
        case "timestamp": return .timestamp
        case "timestamptz": return .timestamptz
        case "timestamp_ns": return .timestampNs
        case "timestamptz_ns": return .timestamptzNs
        case "string": return .string
        case "uuid": return .uuid
        case "binary": return .binary
        default: break
        }
        if name.hasPrefix("fixed[") && name.hasSuffix("]"), let n = Int(name.dropFirst(6).dropLast()) { return .fixed(n) }
        if name.hasPrefix("decimal(") && name.hasSuffix(")") {
            let parts = name.dropFirst(8).dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2, let p = Int(parts[0]), let s = Int(parts[1]) { return .decimal(precision: p, scale: s) }
        }
        return nil
    }

    public init(json: JSONValue) throws {
        switch json {
        case .string(let name):
            guard let t = IcebergType.primitive(named: name) else { throw IcebergError.invalidMetadata("unknown type \"\(name)\"") }
            self = t
        case .object:
            switch json["type"]?.stringValue {
            case "struct": self = .structType(try StructType(json: json))
            case "list":
                guard let id = json["element-id"]?.intValue, (0...Int(Int32.max)).contains(id), let element = json["element"] else {
                    throw IcebergError.invalidMetadata("list type without element-id/element")
                }
                self = .list(ListType(elementId: id, element: try IcebergType(json: element),
                                      elementRequired: json["element-required"]?.boolValue ?? false))
            case "map":
                guard let keyId = json["key-id"]?.intValue, let key = json["key"], (0...Int(Int32.max)).contains(keyId),
                      let valueId = json["value-id"]?.intValue, let value = json["value"], (0...Int(Int32.max)).contains(valueId) else {
                    throw IcebergError.invalidMetadata("map type without key-id/key/value-id/value")
                }
                self = .map(MapType(keyId: keyId, key: try IcebergType(json: key), valueId: valueId,
                                    value: try IcebergType(json: value), valueRequired: json["value-required"]?.boolValue ?? false))
            default:
                throw IcebergError.invalidMetadata("unknown type \(json.serialized())")
            }
        default:
            throw IcebergError.invalidMetadata("a type must be a string or an object")
        }
    }

    public func toJSON() -> JSONValue {
        switch self {
        case .structType(let s): return s.toJSON()
        case .list(let l):
            return .object([("type", .string("list")), ("element-id", .int(Int64(l.elementId))),
                            ("element", l.element.toJSON()), ("element-required", .bool(l.elementRequired))])
        case .map(let m):
            return .object([("type", .string("map")), ("key-id", .int(Int64(m.keyId))), ("key", m.key.toJSON()),
                            ("value-id", .int(Int64(m.valueId))), ("value", m.value.toJSON()),
                            ("value-required", .bool(m.valueRequired))])
        case .decimal(let p, let s): return .string("decimal(\(p), \(s))")
        default: return .string(description)
        }
    }

    /// The Avro schema Iceberg uses for a value of this type in manifests (partition tuples).
    public func avroSchema(recordName: String = "r") -> AvroSchema {
        switch self {
        case .boolean: return .boolean
        case .int: return .int()
        case .long: return .long()
        case .float: return .float
        case .double: return .double
        case .decimal(let p, let s):
            return .fixed(name: "decimal_\(p)_\(s)", size: IcebergType.decimalBytes(precision: p),
                          AvroAnnotations(logicalType: "decimal", attributes: [("precision", .int(Int64(p))), ("scale", .int(Int64(s)))]))
        case .date: return .int(AvroAnnotations(logicalType: "date"))
        case .time: return .long(AvroAnnotations(logicalType: "time-micros"))
        case .timestamp: return .long(AvroAnnotations(logicalType: "timestamp-micros", attributes: [("adjust-to-utc", .bool(false))]))
        case .timestamptz: return .long(AvroAnnotations(logicalType: "timestamp-micros", attributes: [("adjust-to-utc", .bool(true))]))
        case .timestampNs: return .long(AvroAnnotations(logicalType: "timestamp-nanos", attributes: [("adjust-to-utc", .bool(false))]))
        case .timestamptzNs: return .long(AvroAnnotations(logicalType: "timestamp-nanos", attributes: [("adjust-to-utc", .bool(true))]))
        case .string: return .string()
        case .uuid: return .fixed(name: "uuid_fixed", size: 16, AvroAnnotations(logicalType: "uuid"))
        case .fixed(let n): return .fixed(name: "fixed_\(n)", size: n)
        case .binary: return .bytes()
        case .structType(let s):
            return .record(AvroRecordSchema(name: recordName, fields: s.fields.map { f in
                let t = f.type.avroSchema(recordName: "r\(f.id)")
                return AvroField(f.name, f.required ? t : .optional(t), fieldId: f.id, defaultValue: f.required ? nil : .null)
            }))
        case .list(let l):
            let e = l.element.avroSchema(recordName: "r\(l.elementId)")
            return .array(items: l.elementRequired ? e : .optional(e), AvroAnnotations(attributes: [("element-id", .int(Int64(l.elementId)))]))
        case .map(let m):
            let v = m.value.avroSchema(recordName: "r\(m.valueId)")
            return .array(items: .record(AvroRecordSchema(name: "k\(m.keyId)_v\(m.valueId)", fields: [
                AvroField("key", m.key.avroSchema(recordName: "r\(m.keyId)"), fieldId: m.keyId),
                AvroField("value", m.valueRequired ? v : .optional(v), fieldId: m.valueId),
            ])), AvroAnnotations(logicalType: "map"))
        }
    }

    /// Bytes needed for a decimal of `precision` digits (two's complement).
    public static func decimalBytes(precision: Int) -> Int {
        var bytes = 1
        while true {
            // Largest value representable in `bytes` bytes has floor(log10(2^(8*bytes-1) - 1)) digits.
            let digits = Int((Double(8 * bytes - 1) * 0.30102999566398120).rounded(.down))
            if digits >= precision { return bytes }
            bytes += 1
        }
    }
}

public struct NestedField: Sendable, Equatable {
    public var id: Int
    public var name: String
    public var required: Bool
    public var type: IcebergType
    public var doc: String?

    public init(id: Int, name: String, type: IcebergType, required: Bool = false, doc: String? = nil) {
        self.id = id
        self.name = name
        self.type = type
        self.required = required
        self.doc = doc
    }

    init(json: JSONValue) throws {
        guard let id = json["id"]?.intValue, let name = json["name"]?.stringValue, let type = json["type"] else {
            throw IcebergError.invalidMetadata("schema field without id, name or type: \(json.serialized())")
        }
        // Field ids are 32-bit in the spec and in Parquet's field_id: a larger one cannot be written.
        guard (0...Int(Int32.max)).contains(id) else {
            throw IcebergError.invalidMetadata("schema field \(name) has id \(id), outside 0...\(Int32.max)")
        }
        self.init(id: id, name: name, type: try IcebergType(json: type), required: json["required"]?.boolValue ?? false,
                  doc: json["doc"]?.stringValue)
    }

    func toJSON() -> JSONValue {
        var members: [(String, JSONValue)] = [("id", .int(Int64(id))), ("name", .string(name)),
                                              ("required", .bool(required)), ("type", type.toJSON())]
        if let doc { members.append(("doc", .string(doc))) }
        return .object(members)
    }
}

public struct StructType: Sendable, Equatable {
    public var fields: [NestedField]
    public init(fields: [NestedField]) { self.fields = fields }

    init(json: JSONValue) throws {
        fields = try (json["fields"]?.arrayValue ?? []).map(NestedField.init(json:))
    }

    func toJSON() -> JSONValue {
        .object([("type", .string("struct")), ("fields", .array(fields.map { $0.toJSON() }))])
    }
}

public struct ListType: Sendable, Equatable {
    public var elementId: Int
    public var element: IcebergType
    public var elementRequired: Bool
    public init(elementId: Int, element: IcebergType, elementRequired: Bool) {
        self.elementId = elementId
        self.element = element
        self.elementRequired = elementRequired
    }
}

public struct MapType: Sendable, Equatable {
    public var keyId: Int
    public var key: IcebergType
    public var valueId: Int
    public var value: IcebergType
    public var valueRequired: Bool
    public init(keyId: Int, key: IcebergType, valueId: Int, value: IcebergType, valueRequired: Bool) {
        self.keyId = keyId
        self.key = key
        self.valueId = valueId
        self.value = value
        self.valueRequired = valueRequired
    }
}
