/// Which records a reader returns. Every criterion present must hold.
public struct ReadSelection: Sendable {
    public var sources: Set<String>? = nil
    public var streams: Set<String>? = nil
    public var kinds: Set<RecordKind>? = nil
    /// Receive time, inclusive.
    public var fromTimeNanos: Int64? = nil
    /// Receive time, exclusive.
    public var untilTimeNanos: Int64? = nil
    /// Per stream, inclusive.
    public var fromSequence: UInt64? = nil
    /// Per stream, inclusive.
    public var untilSequence: UInt64? = nil
    /// Skip records of a stream up to and including this sequence (resume after a checkpoint).
    public var resumeAfter: [StreamKey: UInt64] = [:]

    public init() {}

    public static let all = ReadSelection()

    func includes(_ key: StreamKey) -> Bool {
        (sources?.contains(key.source) ?? true) && (streams?.contains(key.stream) ?? true)
    }

    /// The first sequence of `key` wanted.
    func minimumSequence(_ key: StreamKey) -> UInt64 {
        var m = fromSequence ?? 0
        if let r = resumeAfter[key] { m = max(m, r &+ 1) }
        return m
    }

    /// Whether a block with these bounds can hold a selected record.
    func mayInclude(_ b: BlockInfo, minimumSequence: UInt64) -> Bool {
        if b.lastSequence < minimumSequence { return false }
        if let u = untilSequence, b.firstSequence > u { return false }
        if let f = fromTimeNanos, b.maxTime < f { return false }
        if let u = untilTimeNanos, b.minTime >= u { return false }
        return true
    }
}

public struct ReadStatistics: Sendable, Equatable {
    public var records: Int = 0
    public var blocks: Int = 0
    public var corruptBlocksSkipped: Int = 0
    public var tornTails: Int = 0
    public init(records: Int = 0, blocks: Int = 0, corruptBlocksSkipped: Int = 0, tornTails: Int = 0) {
        self.records = records
        self.blocks = blocks
        self.corruptBlocksSkipped = corruptBlocksSkipped
        self.tornTails = tornTails
    }
}
