import Avro
import K2Core

/// A partition or sort transform (table spec, "Partition Transforms").
public enum PartitionTransform: Sendable, Equatable, CustomStringConvertible {
    case identity
    case year, month, day, hour
    case bucket(Int)
    case truncate(Int)
    case void

    public init(_ text: String) throws {
        switch text {
        case "identity": self = .identity
        case "year": self = .year
        case "month": self = .month
        case "day": self = .day
        case "hour": self = .hour
        case "void", "alwaysNull": self = .void
        default:
            if text.hasPrefix("bucket[") && text.hasSuffix("]"), let n = Int(text.dropFirst(7).dropLast()), n > 0 {
                self = .bucket(n)
            } else if text.hasPrefix("truncate[") && text.hasSuffix("]"), let w = Int(text.dropFirst(9).dropLast()), w > 0 {
                self = .truncate(w)
            } else {
                throw IcebergError.invalidMetadata("unknown partition transform \"\(text)\"")
            }
        }
    }

    public var description: String {
        switch self {
        case .identity: return "identity"
        case .year: return "year"
        case .month: return "month"
        case .day: return "day"
        case .hour: return "hour"
        case .bucket(let n): return "bucket[\(n)]"
        case .truncate(let w): return "truncate[\(w)]"
        case .void: return "void"
        }
    }

    /// The type of the transform's result for a source column type.
    public func resultType(for source: IcebergType) -> IcebergType {
        switch self {
        case .identity, .truncate, .void: return source
        case .year, .month, .hour, .bucket: return .int
        case .day: return .date
        }
    }

    /// Applies the transform to a source value (nil for null, which every transform maps to null).
    public func apply(_ value: IcebergValue?) throws -> IcebergValue? {
        guard let value else { return nil }
        switch self {
        case .identity: return value
        case .void: return nil
        case .year, .month, .day, .hour:
            let micros: Int64
            switch value {
            case .date(let days):
                if self == .day { return .date(days) }
                if self == .hour { throw IcebergError.invalidArgument("hour transform does not apply to dates") }
                micros = Int64(days) * 86_400_000_000
            case .timestamp(let us), .timestamptz(let us): micros = us
            default: throw IcebergError.invalidArgument("\(self) transform does not apply to \(value)")
            }
            let days = Int32(PartitionTransform.floorDiv(micros, 86_400_000_000))
            switch self {
            case .day: return .date(days)
            case .hour: return .int(Int32(PartitionTransform.floorDiv(micros, 3_600_000_000)))
            default:
                let (y, m, _) = PartitionTransform.civil(fromDays: Int64(days))
                return self == .year ? .int(Int32(y - 1970)) : .int(Int32((y - 1970) * 12 + (m - 1)))
            }
        case .bucket(let n):
            let hash = Murmur3.hash32(value.bucketHashBytes())
            return .int(Int32((Int64(hash) & Int64(Int32.max)) % Int64(n)))
        case .truncate(let w):
            switch value {
            case .int(let v): return .int(v - Int32(PartitionTransform.floorMod(Int64(v), Int64(w))))
            case .long(let v): return .long(v - PartitionTransform.floorMod(v, Int64(w)))
            case .string(let s): return .string(String(s.unicodeScalars.prefix(w).map(Character.init)))
            case .binary(let b): return .binary(Array(b.prefix(w)))
            default: throw IcebergError.invalidArgument("truncate does not apply to \(value)")
            }
        }
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { CivilDate.floorDivide(a, b) }

    static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    /// Proleptic Gregorian year, month, day from days since 1970-01-01 (Howard Hinnant's algorithm).
    public static func civil(fromDays days: Int64) -> (Int, Int, Int) {
        let date = CivilDate(daysSinceEpoch: days)
        return (Int(date.year), Int(date.month), Int(date.day))
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date.
    public static func days(year: Int, month: Int, day: Int) -> Int64 {
        CivilDate(year: Int64(year), month: Int64(month), day: Int64(day)).daysSinceEpoch
    }
}

/// 32-bit Murmur3 (x86 variant, seed 0), as the bucket transform specifies.
public enum Murmur3 {
    public static func hash32(_ data: [UInt8], seed: UInt32 = 0) -> Int32 {
        let c1: UInt32 = 0xcc9e2d51, c2: UInt32 = 0x1b873593
        var h = seed
        let blocks = data.count / 4
        for i in 0..<blocks {
            var k = UInt32(data[4 * i]) | UInt32(data[4 * i + 1]) << 8 | UInt32(data[4 * i + 2]) << 16 | UInt32(data[4 * i + 3]) << 24
            k = k &* c1
            k = (k << 15) | (k >> 17)
            k = k &* c2
            h ^= k
            h = (h << 13) | (h >> 19)
            h = h &* 5 &+ 0xe6546b64
        }
        var k: UInt32 = 0
        let tail = blocks * 4
        switch data.count & 3 {
        case 3:
            k ^= UInt32(data[tail + 2]) << 16
            fallthrough
        case 2:
            k ^= UInt32(data[tail + 1]) << 8
            fallthrough
        case 1:
            k ^= UInt32(data[tail])
            k = k &* c1
            k = (k << 15) | (k >> 17)
            k = k &* c2
            h ^= k
        default: break
        }
        h ^= UInt32(truncatingIfNeeded: data.count)
        h ^= h >> 16
        h = h &* 0x85ebca6b
        h ^= h >> 13
        h = h &* 0xc2b2ae35
        h ^= h >> 16
        return Int32(bitPattern: h)
    }
}
