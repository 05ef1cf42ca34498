import Foundation

/// How min/max statistics of a column compare (parquet.thrift "ColumnOrder": the type-defined order).
///
/// Signed integers compare as two's complement, UINT_* integers as unsigned, strings and binary as unsigned
/// bytes (lexicographic), decimals stored in byte arrays as signed big-endian, floats numerically (NaN never
/// appears in statistics). INT96 has no defined order and gets no statistics.
public enum ParquetSortOrder: Sendable, Hashable {
    case boolean
    case signedInt32, unsignedInt32
    case signedInt64, unsignedInt64
    case float, double
    case unsignedBytes
    case signedBigEndianBytes
    case undefined

    public init(_ column: ParquetColumn) {
        switch column.physicalType {
        case .boolean: self = .boolean
        case .int32:
            if case .integer(_, false) = column.logicalType { self = .unsignedInt32 } else { self = .signedInt32 }
        case .int64:
            if case .integer(_, false) = column.logicalType { self = .unsignedInt64 } else { self = .signedInt64 }
        case .float: self = .float
        case .double: self = .double
        case .int96: self = .undefined
        case .byteArray, .fixedLenByteArray:
            if case .decimal = column.logicalType { self = .signedBigEndianBytes } else { self = .unsignedBytes }
        }
    }

    /// Compares two statistics values (PLAIN encoding without length prefix). Returns a negative number,
    /// zero or a positive number, like memcmp.
    public func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        switch self {
        case .boolean:
            return Int(a.first ?? 0) - Int(b.first ?? 0)
        case .signedInt32:
            return Self.cmp(Self.load(a, Int32.self), Self.load(b, Int32.self))
        case .unsignedInt32:
            return Self.cmp(Self.load(a, UInt32.self), Self.load(b, UInt32.self))
        case .signedInt64:
            return Self.cmp(Self.load(a, Int64.self), Self.load(b, Int64.self))
        case .unsignedInt64:
            return Self.cmp(Self.load(a, UInt64.self), Self.load(b, UInt64.self))
        case .float:
            return Self.cmp(Float(bitPattern: Self.load(a, UInt32.self)), Float(bitPattern: Self.load(b, UInt32.self)))
        case .double:
            return Self.cmp(Double(bitPattern: Self.load(a, UInt64.self)), Double(bitPattern: Self.load(b, UInt64.self)))
        case .unsignedBytes, .undefined:
            return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in Self.compareUnsigned(pa, pb) } }
        case .signedBigEndianBytes:
            return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in Self.compareSignedBigEndian(pa, pb) } }
        }
    }

    static func cmp<T: Comparable>(_ a: T, _ b: T) -> Int { a < b ? -1 : (a > b ? 1 : 0) }

    static func load<T: FixedWidthInteger>(_ bytes: [UInt8], _: T.Type) -> T {
        var v: T = 0
        for (i, b) in bytes.prefix(MemoryLayout<T>.size).enumerated() { v |= T(truncatingIfNeeded: b) << (8 * i) }
        return v
    }

    static func compareUnsigned(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let r = memcmp(a.baseAddress!, b.baseAddress!, n)
            if r != 0 { return Int(r) }
        }
        return a.count - b.count
    }

    /// Big-endian two's complement integers of possibly different widths (sign-extended to compare).
    static func compareSignedBigEndian(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let negA = a.count > 0 && a[0] & 0x80 != 0
        let negB = b.count > 0 && b[0] & 0x80 != 0
        if negA != negB { return negA ? -1 : 1 }
        let width = max(a.count, b.count)
        let padA: UInt8 = negA ? 0xFF : 0, padB: UInt8 = negB ? 0xFF : 0
        for i in 0..<width {
            let x = i < width - a.count ? padA : a[i - (width - a.count)]
            let y = i < width - b.count ? padB : b[i - (width - b.count)]
            if x != y { return Int(x) - Int(y) }
        }
        return 0
    }
}
