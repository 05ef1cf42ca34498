/// Binary datum encoding and decoding of generic values against a schema (Avro 1.11, "Binary Encoding").
public enum AvroDatum {
    public static func encode(_ value: AvroValue, schema: AvroSchema, into encoder: inout AvroBinaryEncoder) throws {
        switch (schema, value) {
        case (.null, .null): break
        case (.boolean, .boolean(let b)): encoder.writeBoolean(b)
        case (.int, .int(let v)): encoder.writeInt(v)
        case (.long, .long(let v)): encoder.writeLong(v)
        case (.long, .int(let v)): encoder.writeLong(Int64(v))
        case (.float, .float(let v)): encoder.writeFloat(v)
        case (.double, .double(let v)): encoder.writeDouble(v)
        case (.bytes, .bytes(let b)): encoder.writeBytes(b)
        case (.string, .string(let s)): encoder.writeString(s)
        case (.fixed(let name, let size, _), .fixed(let b)), (.fixed(let name, let size, _), .bytes(let b)):
            guard b.count == size else { throw AvroSchemaError("fixed \(name) needs \(size) bytes, value has \(b.count)") }
            encoder.writeRaw(b)
        case (.enumeration(let name, let symbols), .enumeration(let i)):
            guard symbols.indices.contains(i) else { throw AvroSchemaError("enum \(name) has no symbol \(i)") }
            encoder.writeInt(Int32(i))
        case (.array(let items, _), .array(let values)):
            if !values.isEmpty {
                encoder.writeBlockCount(values.count)
                for v in values { try encode(v, schema: items, into: &encoder) }
            }
            encoder.writeBlockCount(0)
        case (.map(let valueSchema, _), .map(let entries)):
            if !entries.isEmpty {
                encoder.writeBlockCount(entries.count)
                for (k, v) in entries {
                    encoder.writeString(k)
                    try encode(v, schema: valueSchema, into: &encoder)
                }
            }
            encoder.writeBlockCount(0)
        case (.record(let record), .record(let values)):
            guard values.count == record.fields.count else {
                throw AvroSchemaError("record \(record.name) has \(record.fields.count) fields, value has \(values.count)")
            }
            for (field, v) in zip(record.fields, values) {
                do {
                    try encode(v, schema: field.type, into: &encoder)
                } catch let error as AvroSchemaError {
                    throw AvroSchemaError("\(record.name).\(field.name): \(error.message)")
                }
            }
        case (.union(let branches), _):
            guard let index = branches.firstIndex(where: { fits(value, $0) }) else {
                throw AvroSchemaError("no union branch fits the value \(kind(value))")
            }
            encoder.writeUnionIndex(index)
            try encode(value, schema: branches[index], into: &encoder)
        default:
            throw AvroSchemaError("value \(kind(value)) does not match schema \(schema.toJSON().serialized())")
        }
    }

    private static func fits(_ value: AvroValue, _ schema: AvroSchema) -> Bool {
        switch (schema, value) {
        case (.null, .null), (.boolean, .boolean), (.int, .int), (.long, .long), (.long, .int), (.float, .float),
             (.double, .double), (.bytes, .bytes), (.string, .string), (.fixed, .fixed), (.enumeration, .enumeration),
             (.array, .array), (.map, .map), (.record, .record):
            return true
        case (.fixed(_, let size, _), .bytes(let b)): return b.count == size
        default: return false
        }
    }

    private static func kind(_ value: AvroValue) -> String {
        switch value {
        case .null: return "null"
        case .boolean: return "boolean"
        case .int: return "int"
        case .long: return "long"
        case .float: return "float"
        case .double: return "double"
        case .bytes: return "bytes"
        case .string: return "string"
        case .fixed: return "fixed"
        case .enumeration: return "enum"
        case .array: return "array"
        case .map: return "map"
        case .record: return "record"
        }
    }

    public static func decode(schema: AvroSchema, from decoder: inout AvroBinaryDecoder) throws -> AvroValue {
        switch schema {
        case .null: return .null
        case .boolean: return .boolean(try decoder.readBoolean())
        case .int: return .int(try decoder.readInt())
        case .long: return .long(try decoder.readLong())
        case .float: return .float(try decoder.readFloat())
        case .double: return .double(try decoder.readDouble())
        case .bytes: return .bytes(try decoder.readBytes())
        case .string: return .string(try decoder.readString())
        case .fixed(_, let size, _): return .fixed(try decoder.readFixed(size))
        case .enumeration(let name, let symbols):
            let i = Int(try decoder.readInt())
            guard symbols.indices.contains(i) else {
                throw AvroDecodingError(position: decoder.position, message: "enum \(name) index \(i) out of range")
            }
            return .enumeration(i)
        case .array(let items, _):
            var values: [AvroValue] = []
            while true {
                let count = try decoder.readBlockCount()
                if count == 0 { break }
                guard count <= decoder.remaining || items.isNull else {
                    throw AvroDecodingError(position: decoder.position, message: "array block of \(count) items exceeds the data")
                }
                values.reserveCapacity(values.count + count)
                for _ in 0..<count { values.append(try decode(schema: items, from: &decoder)) }
            }
            return .array(values)
        case .map(let valueSchema, _):
            var entries: [(String, AvroValue)] = []
            while true {
                let count = try decoder.readBlockCount()
                if count == 0 { break }
                guard count <= decoder.remaining else {
                    throw AvroDecodingError(position: decoder.position, message: "map block of \(count) entries exceeds the data")
                }
                for _ in 0..<count {
                    let key = try decoder.readString()
                    entries.append((key, try decode(schema: valueSchema, from: &decoder)))
                }
            }
            return .map(entries)
        case .record(let record):
            var values: [AvroValue] = []
            values.reserveCapacity(record.fields.count)
            for field in record.fields { values.append(try decode(schema: field.type, from: &decoder)) }
            return .record(values)
        case .union(let branches):
            let start = decoder.position
            let index = try decoder.readUnionIndex()
            guard branches.indices.contains(index) else {
                throw AvroDecodingError(position: start, message: "union branch \(index) of \(branches.count)")
            }
            return try decode(schema: branches[index], from: &decoder)
        }
    }
}
