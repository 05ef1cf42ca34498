import Parquet

/// How the values of one Parquet column become values of an Iceberg type, decided once per file and
/// column from the column's physical and logical type.
///
/// The Iceberg side is always one representation (see `ScanReader`): `long`, `time` and timestamps are
/// INT64 in microseconds (nanoseconds for `timestamp_ns`), decimals are big-endian two's complement of
/// `IcebergType.decimalBytes(precision:)` bytes. Files written by other engines store the same values
/// differently: TIMESTAMP(MILLIS) (Flink, pyarrow, Java Iceberg `add_files` of such files), TIMESTAMP(NANOS),
/// INT96 (Spark's legacy default), INT32/INT64 decimals (Spark), INT32 for a column promoted int → long,
/// FLOAT for one promoted float → double.
enum ParquetValueConversion: Equatable, CustomStringConvertible {
    /// The file's values are already the Iceberg representation.
    case same
    /// INT32 → INT64 times a factor (1 for int → long; 1000 for TIME(MILLIS) → microseconds).
    case int32ToInt64(multiply: Int64)
    /// UINT_32 stored in INT32 → INT64.
    case uint32ToInt64
    case floatToDouble
    /// INT64 times a factor (finer unit), failing on overflow.
    case multiply(Int64)
    /// INT64 divided by a factor (coarser unit), rounding toward negative infinity.
    case floorDivide(Int64)
    /// INT96 (nanoseconds of the day, then the Julian day, little-endian) → INT64 in units of `nanosPerUnit` ns.
    case int96(nanosPerUnit: Int64)
    /// Any decimal encoding (INT32, INT64, BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY) → big-endian of `width` bytes.
    case decimal(width: Int)

    var description: String {
        switch self {
        case .same: return "as stored"
        case .int32ToInt64(let m): return m == 1 ? "int32 to int64" : "int32 to int64 times \(m)"
        case .uint32ToInt64: return "uint32 to int64"
        case .floatToDouble: return "float to double"
        case .multiply(let m): return "times \(m)"
        case .floorDivide(let d): return "divided by \(d)"
        case .int96(let n): return "int96 to int64 in \(n) ns units"
        case .decimal(let w): return "decimal to \(w) bytes"
        }
    }

    /// The conversion reading `column` as `type`, or nil when the column's values cannot be that type.
    init?(column: ParquetColumn, type: IcebergType) {
        let physical = column.physicalType
        let logical = column.logicalType
        func signedInteger(maxBits: Int8) -> Bool {
            switch logical {
            case nil: return true
            case .integer(let bits, let signed)?: return signed ? bits <= maxBits : bits < maxBits
            default: return false
            }
        }
        func unitFactor(_ unit: ParquetTimeUnit, target: ParquetTimeUnit) -> ParquetValueConversion {
            func nanos(_ u: ParquetTimeUnit) -> Int64 { u == .millis ? 1_000_000 : (u == .micros ? 1000 : 1) }
            let from = nanos(unit), to = nanos(target)
            if from == to { return .same }
            return from > to ? .multiply(from / to) : .floorDivide(to / from)
        }
        switch type {
        case .boolean:
            guard physical == .boolean else { return nil }
            self = .same
        case .int:
            guard physical == .int32, signedInteger(maxBits: 32) else { return nil }
            self = .same
        case .long:
            if physical == .int64, signedInteger(maxBits: 64) {
                self = .same
            } else if physical == .int32, signedInteger(maxBits: 32) {
                self = .int32ToInt64(multiply: 1)
            } else if physical == .int32, logical == .integer(bitWidth: 32, isSigned: false) {
                self = .uint32ToInt64
            } else {
                return nil
            }
        case .float:
            guard physical == .float else { return nil }
            self = .same
        case .double:
            switch physical {
            case .double: self = .same
            case .float: self = .floatToDouble
            default: return nil
            }
        case .date:
            guard physical == .int32, logical == nil || logical == .date else { return nil }
            self = .same
        case .time:
            guard case .time(_, let unit)? = logical else { return nil }
            switch (physical, unit) {
            case (.int32, .millis): self = .int32ToInt64(multiply: 1000)
            case (.int64, .micros), (.int64, .nanos): self = unitFactor(unit, target: .micros)
            default: return nil
            }
        case .timestamp, .timestamptz, .timestampNs, .timestamptzNs:
            // With or without UTC adjustment: the stored instant is the same number either way (the
            // Spark-style and Flink-style Bronze tables differ exactly there).
            let target: ParquetTimeUnit = (type == .timestamp || type == .timestamptz) ? .micros : .nanos
            if physical == .int96 && logical == nil {
                self = .int96(nanosPerUnit: target == .micros ? 1000 : 1)
            } else if physical == .int64, case .timestamp(_, let unit)? = logical {
                self = unitFactor(unit, target: target)
            } else {
                return nil
            }
        case .string:
            guard physical == .byteArray else { return nil }
            switch logical {
            case nil, .string?, .json?, .other(4)?: self = .same   // 4: ENUM
            default: return nil
            }
        case .binary:
            guard physical == .byteArray else { return nil }
            switch logical {
            case .decimal?: return nil
            default: self = .same
            }
        case .uuid:
            guard physical == .fixedLenByteArray, column.typeLength == 16 else { return nil }
            self = .same
        case .fixed(let n):
            guard physical == .fixedLenByteArray, column.typeLength.map(Int.init) == n else { return nil }
            self = .same
        case .decimal(let precision, let scale):
            // Promotion to a wider precision keeps the scale (table spec, "Schema Evolution").
            guard case .decimal(let p, let s)? = logical, Int(s) == scale, Int(p) <= precision else { return nil }
            let width = IcebergType.decimalBytes(precision: precision)
            switch physical {
            case .fixedLenByteArray where column.typeLength.map(Int.init) == width: self = .same
            case .int32, .int64, .byteArray, .fixedLenByteArray: self = .decimal(width: width)
            default: return nil
            }
        case .structType, .list, .map:
            return nil
        }
    }

    /// A scan bound (PLAIN bytes of the Iceberg value) as a bound on the file's stored values, widened so
    /// that no row that may match is pruned; nil when the stored order differs or is unknown (no pruning).
    func fileBound(_ value: IcebergValue) -> [UInt8]? {
        func plain<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian, Array.init) }
        switch (self, value) {
        case (.same, _):
            return value.singleValueBytes()
        case (.int32ToInt64(1), .long(let v)):
            return plain(Int32(clamping: v))
        case (.multiply(let m), .timestamp(let v)), (.multiply(let m), .timestamptz(let v)):
            // Stored value s matches when s * m is within the bound: floor(v / m) bounds s on both sides.
            return plain(Self.floorDiv(v, m))
        default:
            return nil
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }
}
