import K2Core

/// The 64-bit hash kept per offset when payloads are compared: both sides must hash the same way, and a
/// stored hash is never 0 (0 marks "no row at this offset" in the engine's dense arrays).
///
/// The function is FNV-1a over 8-byte words with a final avalanche (from MurmurHash3's fmix64): fast, no
/// allocation, and an accidental collision between two different payloads is a 2^-63 event per offset.
public enum PayloadHash {
    /// The hash of a null payload (a Spark-style nullable `raw_bytes` with no value).
    public static let null: UInt64 = 0x6e75_6c6c_7061_796c

    public static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = FNV1a.offsetBasis ^ UInt64(bytes.count)
        let prime = FNV1a.prime
        var index = 0
        let count = bytes.count
        while index + 8 <= count {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            h = (h ^ UInt64(littleEndian: word)) &* prime
            h = (h ^ (h >> 29)) &* 0xbf58_476d_1ce4_e5b9
            index += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < count {
            tail |= UInt64(bytes[index]) << shift
            shift += 8
            index += 1
        }
        h = (h ^ tail) &* prime
        // fmix64: spread every input bit over the whole word.
        h ^= h >> 33
        h = h &* 0xff51_afd7_ed55_8ccd
        h ^= h >> 33
        h = h &* 0xc4ce_b9fe_1a85_ec53
        h ^= h >> 33
        return h | 1
    }

    public static func hash(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { hash($0) }
    }
}
