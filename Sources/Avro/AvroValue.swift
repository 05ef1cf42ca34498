/// A value of an Avro schema, decoded generically.
///
/// A union's value is the branch's value itself (`.null` for the null branch): Iceberg's unions are all
/// `["null", X]`, and the encoder picks the branch that fits the value.
public indirect enum AvroValue: Sendable, Equatable {
    case null
    case boolean(Bool)
    case int(Int32)
    case long(Int64)
    case float(Float)
    case double(Double)
    case bytes([UInt8])
    case string(String)
    case fixed([UInt8])
    case enumeration(Int)
    case array([AvroValue])
    /// Map entries in the order they were read.
    case map([(String, AvroValue)])
    /// Field values in the order of the record schema's fields.
    case record([AvroValue])

    public static func == (lhs: AvroValue, rhs: AvroValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.boolean(let a), .boolean(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.long(let a), .long(let b)): return a == b
        case (.float(let a), .float(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.bytes(let a), .bytes(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.fixed(let a), .fixed(let b)): return a == b
        case (.enumeration(let a), .enumeration(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.map(let a), .map(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.record(let a), .record(let b)): return a == b
        default: return false
        }
    }

    public var isNull: Bool { if case .null = self { return true }; return false }
    public var int32Value: Int32? {
        switch self {
        case .int(let v): return v
        case .long(let v): return Int32(exactly: v)
        default: return nil
        }
    }
    public var int64Value: Int64? {
        switch self {
        case .int(let v): return Int64(v)
        case .long(let v): return v
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var bytesValue: [UInt8]? {
        switch self {
        case .bytes(let b), .fixed(let b): return b
        default: return nil
        }
    }
    public var boolValue: Bool? { if case .boolean(let b) = self { return b }; return nil }
    public var arrayValue: [AvroValue]? { if case .array(let a) = self { return a }; return nil }
    public var recordValue: [AvroValue]? { if case .record(let r) = self { return r }; return nil }
}
