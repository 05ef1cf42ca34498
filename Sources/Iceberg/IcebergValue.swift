import Foundation
import Avro

/// A single value of a primitive Iceberg type: partition values, column bounds, predicate operands.
public enum IcebergValue: Sendable, Hashable, CustomStringConvertible {
    case boolean(Bool)
    case int(Int32)
    case long(Int64)
    case float(Float)
    case double(Double)
    /// Days since 1970-01-01.
    case date(Int32)
    /// Microseconds since midnight.
    case time(Int64)
    /// Microseconds since the epoch.
    case timestamp(Int64)
    case timestamptz(Int64)
    case string(String)
    case uuid([UInt8])
    case fixed([UInt8])
    case binary([UInt8])
    /// The unscaled value, two's complement big-endian, and the scale.
    case decimal(unscaled: [UInt8], scale: Int)

    public var description: String {
        switch self {
        case .boolean(let v): return "\(v)"
        case .int(let v): return "\(v)"
        case .long(let v): return "\(v)"
        case .float(let v): return "\(v)"
        case .double(let v): return "\(v)"
        case .date(let d):
            let (y, m, day) = PartitionTransform.civil(fromDays: Int64(d))
            return String(format: "%04d-%02d-%02d", y, m, day)
        case .time(let v): return "time(\(v)us)"
        case .timestamp(let v), .timestamptz(let v): return "timestamp(\(v)us)"
        case .string(let s): return "\"\(s)\""
        case .uuid(let b), .fixed(let b), .binary(let b): return "0x" + b.map { String(format: "%02x", $0) }.joined()
        case .decimal(let u, let s): return "decimal(0x\(u.map { String(format: "%02x", $0) }.joined()), scale \(s))"
        }
    }

    /// The bytes the bucket transform hashes: ints and dates as 8-byte little-endian longs.
    func bucketHashBytes() -> [UInt8] {
        func le64(_ v: Int64) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
        switch self {
        case .int(let v), .date(let v): return le64(Int64(v))
        case .long(let v), .time(let v), .timestamp(let v), .timestamptz(let v): return le64(v)
        case .string(let s): return Array(s.utf8)
        case .uuid(let b), .fixed(let b), .binary(let b): return b
        case .decimal(let u, _): return IcebergValue.minimalTwosComplement(u)
        case .boolean(let b): return le64(b ? 1 : 0)
        case .float(let f): return withUnsafeBytes(of: Double(f).bitPattern.littleEndian, Array.init)
        case .double(let d): return withUnsafeBytes(of: d.bitPattern.littleEndian, Array.init)
        }
    }

    static func minimalTwosComplement(_ bytes: [UInt8]) -> [UInt8] {
        var b = bytes[...]
        while b.count > 1 {
            let first = b[b.startIndex], next = b[b.startIndex + 1]
            if (first == 0x00 && next & 0x80 == 0) || (first == 0xFF && next & 0x80 != 0) { b = b.dropFirst() } else { break }
        }
        return Array(b)
    }

    // MARK: Single-value serialization (table spec, Appendix D), used for lower/upper bounds.

    public func singleValueBytes() -> [UInt8] {
        switch self {
        case .boolean(let b): return [b ? 1 : 0]
        case .int(let v), .date(let v): return withUnsafeBytes(of: v.littleEndian, Array.init)
        case .long(let v), .time(let v), .timestamp(let v), .timestamptz(let v): return withUnsafeBytes(of: v.littleEndian, Array.init)
        case .float(let f): return withUnsafeBytes(of: f.bitPattern.littleEndian, Array.init)
        case .double(let d): return withUnsafeBytes(of: d.bitPattern.littleEndian, Array.init)
        case .string(let s): return Array(s.utf8)
        case .uuid(let b), .fixed(let b), .binary(let b): return b
        case .decimal(let u, _): return IcebergValue.minimalTwosComplement(u)
        }
    }

    public init(singleValue bytes: [UInt8], type: IcebergType) throws {
        func le<T: FixedWidthInteger>(_ t: T.Type) throws -> T {
            guard bytes.count == MemoryLayout<T>.size else {
                throw IcebergError.invalidArgument("bound of type \(type) needs \(MemoryLayout<T>.size) bytes, has \(bytes.count)")
            }
            return bytes.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(as: T.self)) }
        }
        switch type {
        case .boolean: self = .boolean(bytes.first == 1)
        case .int: self = .int(try le(Int32.self))
        case .date: self = .date(try le(Int32.self))
        case .long:
            // A long column promoted from int may carry 4-byte bounds.
            self = bytes.count == 4 ? .long(Int64(try le(Int32.self))) : .long(try le(Int64.self))
        case .time: self = .time(try le(Int64.self))
        case .timestamp, .timestampNs: self = .timestamp(try le(Int64.self))
        case .timestamptz, .timestamptzNs: self = .timestamptz(try le(Int64.self))
        case .float: self = .float(Float(bitPattern: try le(UInt32.self)))
        case .double:
            self = bytes.count == 4 ? .double(Double(Float(bitPattern: try le(UInt32.self)))) : .double(Double(bitPattern: try le(UInt64.self)))
        case .string:
            guard let s = String(validating: bytes, as: UTF8.self) else { throw IcebergError.invalidArgument("string bound is not UTF-8") }
            self = .string(s)
        case .uuid: self = .uuid(bytes)
        case .fixed: self = .fixed(bytes)
        case .binary: self = .binary(bytes)
        case .decimal(_, let scale): self = .decimal(unscaled: bytes, scale: scale)
        case .structType, .list, .map: throw IcebergError.invalidArgument("no single-value form for \(type)")
        }
    }

    // MARK: Avro form (partition tuples in manifests)

    public func avroValue() -> AvroValue {
        switch self {
        case .boolean(let b): return .boolean(b)
        case .int(let v), .date(let v): return .int(v)
        case .long(let v), .time(let v), .timestamp(let v), .timestamptz(let v): return .long(v)
        case .float(let f): return .float(f)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        case .uuid(let b), .fixed(let b): return .fixed(b)
        case .binary(let b): return .bytes(b)
        case .decimal(let u, let scale):
            // Fixed-size decimals are sign-extended to the schema's width by the caller of `avroValue(type:)`.
            _ = scale
            return .fixed(u)
        }
    }

    public func avroValue(type: IcebergType) -> AvroValue {
        if case .decimal(let p, _) = type, case .decimal(let u, _) = self {
            let size = IcebergType.decimalBytes(precision: p)
            let minimal = IcebergValue.minimalTwosComplement(u)
            let fill: UInt8 = (minimal.first ?? 0) & 0x80 != 0 ? 0xFF : 0
            return .fixed([UInt8](repeating: fill, count: max(0, size - minimal.count)) + minimal)
        }
        return avroValue()
    }

    public init?(avro: AvroValue, type: IcebergType) {
        switch (type, avro) {
        case (_, .null): return nil
        case (.boolean, .boolean(let b)): self = .boolean(b)
        case (.int, .int(let v)): self = .int(v)
        case (.date, .int(let v)): self = .date(v)
        case (.long, .long(let v)): self = .long(v)
        case (.long, .int(let v)): self = .long(Int64(v))
        case (.time, .long(let v)): self = .time(v)
        case (.timestamp, .long(let v)), (.timestampNs, .long(let v)): self = .timestamp(v)
        case (.timestamptz, .long(let v)), (.timestamptzNs, .long(let v)): self = .timestamptz(v)
        case (.float, .float(let v)): self = .float(v)
        case (.double, .double(let v)): self = .double(v)
        case (.string, .string(let s)): self = .string(s)
        case (.uuid, .fixed(let b)), (.uuid, .bytes(let b)): self = .uuid(b)
        case (.uuid, .string(let s)): self = .uuid(IcebergValue.uuidBytes(s))
        case (.fixed, .fixed(let b)), (.fixed, .bytes(let b)): self = .fixed(b)
        case (.binary, .bytes(let b)), (.binary, .fixed(let b)): self = .binary(b)
        case (.decimal(_, let s), .fixed(let b)), (.decimal(_, let s), .bytes(let b)): self = .decimal(unscaled: b, scale: s)
        default: return nil
        }
    }

    static func uuidBytes(_ text: String) -> [UInt8] {
        let hex = Array(text.replacingOccurrences(of: "-", with: "").utf8)
        var out: [UInt8] = []
        var i = 0
        while i + 1 < hex.count {
            out.append(UInt8(String(decoding: hex[i...i + 1], as: UTF8.self), radix: 16) ?? 0)
            i += 2
        }
        return out
    }

    // MARK: Ordering (for pruning by bounds)

    /// Compares two values of the same type; nil when they are not comparable.
    public static func compare(_ a: IcebergValue, _ b: IcebergValue) -> Int? {
        func cmp<T: Comparable>(_ x: T, _ y: T) -> Int { x < y ? -1 : (x > y ? 1 : 0) }
        switch (a, b) {
        case (.boolean(let x), .boolean(let y)): return cmp(x ? 1 : 0, y ? 1 : 0)
        case (.int(let x), .int(let y)), (.date(let x), .date(let y)): return cmp(x, y)
        case (.int(let x), .long(let y)): return cmp(Int64(x), y)
        case (.long(let x), .int(let y)): return cmp(x, Int64(y))
        case (.long(let x), .long(let y)), (.time(let x), .time(let y)), (.timestamp(let x), .timestamp(let y)),
             (.timestamptz(let x), .timestamptz(let y)), (.timestamp(let x), .timestamptz(let y)), (.timestamptz(let x), .timestamp(let y)):
            return cmp(x, y)
        case (.float(let x), .float(let y)): return x.isNaN || y.isNaN ? nil : cmp(x, y)
        case (.double(let x), .double(let y)): return x.isNaN || y.isNaN ? nil : cmp(x, y)
        case (.string(let x), .string(let y)):
            // Iceberg orders strings by their UTF-8 bytes.
            return lexicographic(Array(x.utf8), Array(y.utf8))
        case (.binary(let x), .binary(let y)), (.fixed(let x), .fixed(let y)), (.uuid(let x), .uuid(let y)):
            return lexicographic(x, y)
        default: return nil
        }
    }

    private static func lexicographic(_ x: [UInt8], _ y: [UInt8]) -> Int {
        for (p, q) in zip(x, y) where p != q { return p < q ? -1 : 1 }
        return x.count < y.count ? -1 : (x.count > y.count ? 1 : 0)
    }
}
