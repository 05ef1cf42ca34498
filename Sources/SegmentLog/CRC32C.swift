import CK2Native

/// CRC-32C (Castagnoli), the checksum of every segment-log structure. Hardware-accelerated (SSE4.2).
public enum CRC32C {
    /// `seed` is the checksum of the preceding bytes, so checksums of pieces chain.
    @inline(__always)
    public static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return seed }
        return k2_crc32c(seed, base, bytes.count)
    }

    public static func checksum(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, seed: seed) }
    }
}
