import CLZ4
import CSnappy
import CZlib
import CZstd

/// A block compression codec, as used by segment-log blocks, Parquet pages and Avro container blocks.
///
/// The formats are the plain library formats, never our own framing:
/// - `zstd`: one zstd frame (RFC 8878), content size recorded in the frame header.
/// - `lz4`: one LZ4 *block* (not the LZ4 frame format): the caller must store the uncompressed size.
/// - `snappy`: raw Snappy (Parquet `SNAPPY`, Avro `snappy` before its CRC suffix).
/// - `gzip`: RFC 1952 member (Parquet `GZIP`); decompression also accepts a zlib stream.
/// - `deflate`: raw RFC 1951 deflate (Avro `deflate`).
public enum CompressionCodec: Sendable, Hashable, CustomStringConvertible {
    case none
    case zstd(level: Int32)
    case lz4
    case snappy
    case gzip(level: Int32)
    case deflate(level: Int32)

    public static let zstdDefault = CompressionCodec.zstd(level: 3)

    public var description: String {
        switch self {
        case .none: return "none"
        case .zstd(let level): return "zstd-\(level)"
        case .lz4: return "lz4"
        case .snappy: return "snappy"
        case .gzip(let level): return "gzip-\(level)"
        case .deflate(let level): return "deflate-\(level)"
        }
    }

    /// Parses `none`, `zstd`, `zstd-9`, `zstd:9`, `lz4`, `snappy`, `gzip`, `deflate` (as typed on a command line).
    public init?(name: String) {
        let lower = name.lowercased()
        let parts = lower.split(whereSeparator: { $0 == "-" || $0 == ":" }).map(String.init)
        guard let base = parts.first else { return nil }
        let level: Int32? = parts.count > 1 ? Int32(parts[1]) : nil
        if parts.count > 2 || (parts.count == 2 && level == nil) { return nil }
        switch base {
        case "none", "uncompressed": if level != nil { return nil }; self = .none
        case "zstd": self = .zstd(level: level ?? 3)
        case "lz4": if level != nil { return nil }; self = .lz4
        case "snappy": if level != nil { return nil }; self = .snappy
        case "gzip": self = .gzip(level: level ?? 6)
        case "deflate": self = .deflate(level: level ?? 6)
        default: return nil
        }
    }
}

/// A codec failure: corrupt input, or a size that does not match what the container promised.
public struct CodecError: Error, CustomStringConvertible, Sendable {
    public let codec: String
    public let message: String
    public init(codec: String, message: String) {
        self.codec = codec
        self.message = message
    }
    public var description: String { "\(codec): \(message)" }
}
