/// FNV-1a, 64-bit: the one stable, dependency-free hash the toolkit uses for identities that outlive a process
/// (replay run ids, checkpoint file names, provenance stream hashes, shard assignment) and, over 8-byte words,
/// for payload hashes. Stable across runs and platforms, unlike `Hasher`.
public struct FNV1a: Sendable {
    public static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    public static let prime: UInt64 = 0x0000_0100_0000_01b3

    public private(set) var value: UInt64 = FNV1a.offsetBasis

    public init() {}

    public mutating func combine(_ byte: UInt8) {
        value ^= UInt64(byte)
        value = value &* FNV1a.prime
    }

    public mutating func combine<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes { combine(byte) }
    }

    /// The string's UTF-8 bytes followed by a NUL, so that ("ab", "c") and ("a", "bc") hash apart.
    public mutating func combineField(_ text: String) {
        combine(text.utf8)
        combine(0)
    }

    /// FNV-1a-64 of the bytes.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hasher = FNV1a()
        hasher.combine(bytes)
        return hasher.value
    }

    /// FNV-1a-64 of the fields, each followed by a NUL.
    public static func hash(fields: [String]) -> UInt64 {
        var hasher = FNV1a()
        for field in fields { hasher.combineField(field) }
        return hasher.value
    }

    /// The value as 16 lower-case hex digits.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
