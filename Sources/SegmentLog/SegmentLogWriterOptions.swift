import Codecs

/// When written blocks are forced to stable storage (fdatasync).
public enum FsyncPolicy: Sendable, Equatable {
    /// After every block written: a record is durable once its block is written (block full, flush, roll, close).
    case everyBlock
    /// At most every N ms: when an append finds the last sync older than N ms, every open block is written
    /// and the file synced, so at most ~N ms of records (plus the time to the next append) are at risk.
    case interval(milliseconds: Int)
    /// Only when a segment is sealed (roll or close).
    case never
}

public struct SegmentLogWriterOptions: Sendable {
    public var codec: CompressionCodec = .zstd(level: 3)
    /// Uncompressed bytes before a stream's block is closed.
    public var blockBytes: Int = 64 * 1024
    /// Roll when a segment reaches this size ...
    public var segmentBytes: Int64 = 256 << 20
    /// ... or this age.
    public var segmentSeconds: Int64 = 3600
    public var fsync: FsyncPolicy = .interval(milliseconds: 1000)
    public init() {}
}
