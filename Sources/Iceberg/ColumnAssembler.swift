import Parquet

/// Builds one column of an Iceberg type from the pieces (row groups) of a data file, converting each
/// piece as it is appended. Values go straight into arrays this struct owns, so appending n rows costs
/// O(n) whatever the number of pieces (no copy of what was already gathered).
struct ColumnAssembler {
    enum Kind: Equatable {
        case boolean, int32, int64, float, double, byteArray
        case fixed(width: Int)
    }

    /// A piece that does not fit (its values, or one value, cannot become the Iceberg type).
    struct Mismatch: Error, CustomStringConvertible {
        let description: String
    }

    let kind: Kind
    private var booleans: [Bool] = []
    private var int32s: [Int32] = []
    private var int64s: [Int64] = []
    private var floats: [Float] = []
    private var doubles: [Double] = []
    private var byteArrays = ByteArrayValues()
    private var fixed: [UInt8] = []
    /// One entry per row once any row is null; nil while every row so far has a value.
    private var validity: [Bool]?
    private(set) var rowCount = 0
    /// The first piece, kept as it came while it is the only one and needs no conversion: a file of
    /// one row group costs no copy.
    private var onlyPiece: ColumnData?

    init(type: IcebergType) throws {
        switch type {
        case .boolean: kind = .boolean
        case .int, .date: kind = .int32
        case .long, .time, .timestamp, .timestamptz, .timestampNs, .timestamptzNs: kind = .int64
        case .float: kind = .float
        case .double: kind = .double
        case .string, .binary: kind = .byteArray
        case .uuid: kind = .fixed(width: 16)
        case .fixed(let n): kind = .fixed(width: n)
        case .decimal(let p, _): kind = .fixed(width: IcebergType.decimalBytes(precision: p))
        case .structType, .list, .map: throw Mismatch(description: "nested column types (\(type)) cannot be read")
        }
    }

    /// Reserves room for `rows` more rows (`bytes` more bytes of variable-length values).
    mutating func reserve(rows: Int, bytes: Int = 0) {
        switch kind {
        case .boolean: booleans.reserveCapacity(booleans.count + rows)
        case .int32: int32s.reserveCapacity(int32s.count + rows)
        case .int64: int64s.reserveCapacity(int64s.count + rows)
        case .float: floats.reserveCapacity(floats.count + rows)
        case .double: doubles.reserveCapacity(doubles.count + rows)
        case .byteArray: byteArrays.reserve(values: byteArrays.count + rows, bytes: byteArrays.bytes.count + bytes)
        case .fixed(let w): fixed.reserveCapacity(fixed.count + rows * w)
        }
    }

    /// Appends one piece read from a Parquet column, converting its values.
    mutating func append(_ piece: ColumnData, conversion: ParquetValueConversion) throws {
        if conversion == .same && rowCount == 0 && Self.kind(of: piece.values) == kind {
            onlyPiece = piece
            rowCount = piece.rowCount
            return
        }
        try flushOnlyPiece()
        try appendConverted(piece, conversion: conversion)
    }

    private mutating func flushOnlyPiece() throws {
        guard let piece = onlyPiece else { return }
        onlyPiece = nil
        rowCount = 0
        try appendConverted(piece, conversion: .same)
    }

    private mutating func appendConverted(_ piece: ColumnData, conversion: ParquetValueConversion) throws {
        switch (conversion, piece.values) {
        case (.same, .boolean(let v)) where kind == .boolean:
            booleans.append(contentsOf: v)
        case (.same, .int32(let v)) where kind == .int32:
            int32s.append(contentsOf: v)
        case (.same, .int64(let v)) where kind == .int64:
            int64s.append(contentsOf: v)
        case (.same, .float(let v)) where kind == .float:
            floats.append(contentsOf: v)
        case (.same, .double(let v)) where kind == .double:
            doubles.append(contentsOf: v)
        case (.same, .byteArray(let v)) where kind == .byteArray:
            let base = byteArrays.bytes.count
            byteArrays.bytes.append(contentsOf: v.bytes)
            byteArrays.offsets.append(contentsOf: v.offsets.dropFirst().lazy.map { $0 + base })
        case (.same, .fixedLenByteArray(let v)) where kind == .fixed(width: v.width):
            fixed.append(contentsOf: v.bytes)
        case (.int32ToInt64(let m), .int32(let v)) where kind == .int64:
            // |Int32| * 1000 stays far inside Int64.
            int64s.append(contentsOf: v.lazy.map { Int64($0) * m })
        case (.uint32ToInt64, .int32(let v)) where kind == .int64:
            int64s.append(contentsOf: v.lazy.map { Int64(UInt32(bitPattern: $0)) })
        case (.floatToDouble, .float(let v)) where kind == .double:
            doubles.append(contentsOf: v.lazy.map { Double($0) })
        case (.multiply(let m), .int64(let v)) where kind == .int64:
            int64s.reserveCapacity(int64s.count + v.count)
            for x in v {
                let (r, overflow) = x.multipliedReportingOverflow(by: m)
                if overflow { throw Mismatch(description: "value \(x) times \(m) overflows 64 bits") }
                int64s.append(r)
            }
        case (.floorDivide(let d), .int64(let v)) where kind == .int64:
            int64s.append(contentsOf: v.lazy.map { ParquetValueConversion.floorDiv($0, d) })
        case (.int96(let nanosPerUnit), .fixedLenByteArray(let v)) where kind == .int64 && v.width == 12:
            try appendInt96(v, nanosPerUnit: nanosPerUnit)
        case (.decimal(let width), _) where kind == .fixed(width: width):
            try appendDecimal(piece.values, width: width)
        default:
            throw Mismatch(description: "values stored as \(Self.name(piece.values)) cannot be converted (\(conversion)) to \(kind)")
        }
        appendValidity(piece)
    }

    /// Appends `rows` rows holding `value` (nil: null), for a column the file lacks but whose value the
    /// partition tuple gives (identity partitions).
    mutating func appendConstant(_ value: IcebergValue?, rows: Int) throws {
        try flushOnlyPiece()
        guard let value else {
            if validity == nil { validity = [Bool](repeating: true, count: rowCount) }
            validity!.append(contentsOf: repeatElement(false, count: rows))
            rowCount += rows
            return
        }
        switch (kind, value) {
        case (.boolean, .boolean(let v)): booleans.append(contentsOf: repeatElement(v, count: rows))
        case (.int32, .int(let v)), (.int32, .date(let v)): int32s.append(contentsOf: repeatElement(v, count: rows))
        case (.int64, .long(let v)), (.int64, .time(let v)), (.int64, .timestamp(let v)), (.int64, .timestamptz(let v)):
            int64s.append(contentsOf: repeatElement(v, count: rows))
        case (.float, .float(let v)): floats.append(contentsOf: repeatElement(v, count: rows))
        case (.double, .double(let v)): doubles.append(contentsOf: repeatElement(v, count: rows))
        case (.byteArray, .string(let s)):
            for _ in 0..<rows { byteArrays.append(contentsOf: s.utf8) }
        case (.byteArray, .binary(let b)):
            for _ in 0..<rows { byteArrays.append(b) }
        case (.fixed(let w), .uuid(let b)) where b.count == w, (.fixed(let w), .fixed(let b)) where b.count == w:
            for _ in 0..<rows { fixed.append(contentsOf: b) }
        case (.fixed(let w), .decimal(let unscaled, _)):
            for _ in 0..<rows { try Self.appendBigEndian(unscaled[...], width: w, into: &fixed) }
        default:
            throw Mismatch(description: "partition value \(value) does not fit a \(kind) column")
        }
        if validity != nil { validity!.append(contentsOf: repeatElement(true, count: rows)) }
        rowCount += rows
    }

    /// The column gathered so far.
    func finish() -> ColumnData {
        if let onlyPiece { return onlyPiece }
        let values: ColumnValues
        switch kind {
        case .boolean: values = .boolean(booleans)
        case .int32: values = .int32(int32s)
        case .int64: values = .int64(int64s)
        case .float: values = .float(floats)
        case .double: values = .double(doubles)
        case .byteArray: values = .byteArray(byteArrays)
        case .fixed(let w): values = .fixedLenByteArray(FixedLenByteArrayValues(width: w, bytes: fixed))
        }
        return ColumnData(values, validity: validity)
    }

    private mutating func appendValidity(_ piece: ColumnData) {
        if let v = piece.validity {
            if validity == nil {
                validity = [Bool](repeating: true, count: rowCount)
            }
            validity!.append(contentsOf: v)
        } else if validity != nil {
            validity!.append(contentsOf: repeatElement(true, count: piece.rowCount))
        }
        rowCount += piece.rowCount
    }

    /// INT96: 8 bytes of nanoseconds within the day, then 4 bytes of Julian day, both little-endian.
    private mutating func appendInt96(_ v: FixedLenByteArrayValues, nanosPerUnit: Int64) throws {
        // Julian day 2440588 is 1970-01-01.
        let unixEpochJulianDay: Int64 = 2_440_588
        let unitsPerDay = 86_400_000_000_000 / nanosPerUnit
        int64s.reserveCapacity(int64s.count + v.count)
        try v.bytes.withUnsafeBytes { raw in
            for i in 0..<v.count {
                let nanosOfDay = Int64(bitPattern: raw.loadUnaligned(fromByteOffset: i * 12, as: UInt64.self).littleEndian)
                let julianDay = Int64(Int32(bitPattern: raw.loadUnaligned(fromByteOffset: i * 12 + 8, as: UInt32.self).littleEndian))
                let (dayUnits, o1) = (julianDay - unixEpochJulianDay).multipliedReportingOverflow(by: unitsPerDay)
                let (total, o2) = dayUnits.addingReportingOverflow(ParquetValueConversion.floorDiv(nanosOfDay, nanosPerUnit))
                if o1 || o2 { throw Mismatch(description: "INT96 timestamp (Julian day \(julianDay), \(nanosOfDay) ns) is out of range") }
                int64s.append(total)
            }
        }
    }

    private mutating func appendDecimal(_ values: ColumnValues, width: Int) throws {
        func integer<T: FixedWidthInteger>(_ x: T) {
            // Sign-extend, most significant byte first.
            let wide = Int64(x)
            for k in stride(from: width - 1, through: 0, by: -1) {
                fixed.append(k >= 8 ? (wide < 0 ? 0xFF : 0) : UInt8(truncatingIfNeeded: wide >> (8 * k)))
            }
        }
        fixed.reserveCapacity(fixed.count + values.count * width)
        switch values {
        case .int32(let v): for x in v { integer(x) }
        case .int64(let v): for x in v { integer(x) }
        case .byteArray(let v): for i in 0..<v.count { try Self.appendBigEndian(v[i], width: width, into: &fixed) }
        case .fixedLenByteArray(let v): for i in 0..<v.count { try Self.appendBigEndian(v[i], width: width, into: &fixed) }
        default: throw Mismatch(description: "values stored as \(Self.name(values)) are not a decimal encoding")
        }
    }

    /// Appends a big-endian two's complement value re-sized to `width` bytes (sign-extended, or with
    /// redundant sign bytes dropped); a value that needs more than `width` bytes is an error.
    static func appendBigEndian(_ value: ArraySlice<UInt8>, width: Int, into out: inout [UInt8]) throws {
        let negative = (value.first ?? 0) & 0x80 != 0
        let pad: UInt8 = negative ? 0xFF : 0
        if value.count <= width {
            out.append(contentsOf: repeatElement(pad, count: width - value.count))
            out.append(contentsOf: value)
            return
        }
        let extra = value.count - width
        let head = value.prefix(extra)
        guard head.allSatisfy({ $0 == pad }), (value[value.startIndex + extra] & 0x80 != 0) == negative else {
            throw Mismatch(description: "decimal of \(value.count) bytes does not fit \(width) bytes")
        }
        out.append(contentsOf: value.dropFirst(extra))
    }

    static func kind(of values: ColumnValues) -> Kind {
        switch values {
        case .boolean: return .boolean
        case .int32: return .int32
        case .int64: return .int64
        case .float: return .float
        case .double: return .double
        case .byteArray: return .byteArray
        case .fixedLenByteArray(let v): return .fixed(width: v.width)
        }
    }

    static func name(_ values: ColumnValues) -> String {
        switch values {
        case .boolean: return "boolean"
        case .int32: return "int32"
        case .int64: return "int64"
        case .float: return "float"
        case .double: return "double"
        case .byteArray: return "byte array"
        case .fixedLenByteArray(let v): return "fixed \(v.width)-byte"
        }
    }
}
