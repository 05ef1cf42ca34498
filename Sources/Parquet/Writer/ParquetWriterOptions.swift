import Codecs

/// Settings of a `ParquetWriter`. Defaults follow parquet-mr/Iceberg: 128 MiB row groups, 1 MiB pages,
/// dictionary encoding with a 1 MiB dictionary limit (beyond it the column falls back to PLAIN), zstd.
public struct ParquetWriterOptions: Sendable {
    /// Page compression: `.none`, `.zstd`, `.snappy`, `.gzip` or `.lz4` (written as LZ4_RAW).
    public var compression: CompressionCodec = .zstdDefault
    /// A row group is closed once its buffered (compressed) column chunks reach this size.
    public var rowGroupBytes: Int = 128 * 1024 * 1024
    /// And also after this many rows.
    public var rowGroupRows: Int = 1 << 30
    /// A data page is closed once its encoded values and levels reach this size.
    public var pageBytes: Int = 1024 * 1024
    public var dictionaryEnabled: Bool = true
    /// Above this many dictionary bytes, a column chunk switches to PLAIN for its remaining pages.
    public var dictionaryPageBytesLimit: Int = 1024 * 1024
    /// Columns (by name) always written PLAIN, e.g. high-cardinality payloads.
    public var plainColumns: Set<String> = []
    /// Min/max statistics longer than this (bytes) are left out of the footer, as Arrow does, so large
    /// binary values do not bloat it; the null count is always written. `ParquetColumnSummary` keeps them.
    public var statisticsMaxBytes: Int = 4096
    /// Footer key-value metadata (e.g. `iceberg.schema`).
    public var keyValueMetadata: [ParquetKeyValue] = []
    public var createdBy: String = "k2-backfill version 0.1.0"

    public init() {}

    var parquetCompression: ParquetCompression {
        switch compression {
        case .none: return .uncompressed
        case .zstd: return .zstd
        case .snappy: return .snappy
        case .gzip: return .gzip
        case .lz4: return .lz4Raw
        case .deflate: return .gzip  // rejected by ParquetWriter.init; never reached
        }
    }
}
