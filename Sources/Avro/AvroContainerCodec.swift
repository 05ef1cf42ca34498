import Codecs

/// The `avro.codec` of an object container file.
public enum AvroContainerCodec: String, Sendable, CaseIterable {
    case null
    case deflate
    case snappy
    case zstandard

    /// Also accepts the names Iceberg's `write.avro.compression-codec` uses (`gzip`, `zstd`, `uncompressed`).
    public init?(name: String) {
        switch name.lowercased() {
        case "null", "none", "uncompressed": self = .null
        case "deflate", "gzip": self = .deflate
        case "snappy": self = .snappy
        case "zstandard", "zstd": self = .zstandard
        default: return nil
        }
    }

    func compress(_ block: [UInt8], with compressor: BlockCompressor) throws -> [UInt8] {
        switch self {
        case .null: return block
        case .deflate: return try compressor.compress(block, codec: .deflate(level: 6))
        case .zstandard: return try compressor.compress(block, codec: .zstd(level: 3))
        case .snappy:
            // Avro's snappy blocks end with the CRC-32 of the uncompressed data, big-endian.
            var out = try compressor.compress(block, codec: .snappy)
            let crc = CRC32.checksum(block)
            out += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
            return out
        }
    }

    func decompress(_ block: ArraySlice<UInt8>, with compressor: BlockCompressor) throws -> [UInt8] {
        switch self {
        case .null: return Array(block)
        case .deflate: return try compressor.decompress(Array(block), codec: .deflate(level: 6))
        case .zstandard: return try compressor.decompress(Array(block), codec: .zstdDefault)
        case .snappy:
            guard block.count >= 4 else { throw CodecError(codec: "snappy", message: "block shorter than its CRC") }
            let body = Array(block.dropLast(4))
            let crcBytes = Array(block.suffix(4))
            let expected = UInt32(crcBytes[0]) << 24 | UInt32(crcBytes[1]) << 16 | UInt32(crcBytes[2]) << 8 | UInt32(crcBytes[3])
            let out = try compressor.decompress(body, codec: .snappy)
            let actual = CRC32.checksum(out)
            guard actual == expected else {
                throw CodecError(codec: "snappy", message: "CRC mismatch (stored \(expected), computed \(actual))")
            }
            return out
        }
    }
}
