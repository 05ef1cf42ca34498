import K2Core
/// A range of offsets one side lacks, with the offsets that side holds on either side of it and their Kafka
/// timestamps: when its data stopped and started again (a person reads an outage as times, not offsets).
public struct GapEdges: Codable, Sendable, Equatable {
    /// The side that lacks `[first, last]` (`left`, `right` or `truth`).
    public var side: String
    public var first: Int64
    public var last: Int64
    /// The highest offset below the range that `side` holds, and its timestamp; null when it holds none.
    @NullWhenAbsent public var beforeOffset: Int64?
    @NullWhenAbsent public var beforeTimestamp: String?
    /// The lowest offset above the range that `side` holds, and its timestamp; null when it holds none.
    @NullWhenAbsent public var afterOffset: Int64?
    @NullWhenAbsent public var afterTimestamp: String?

    enum CodingKeys: String, CodingKey {
        case side, first, last
        case beforeOffset = "before_offset"
        case beforeTimestamp = "before_timestamp"
        case afterOffset = "after_offset"
        case afterTimestamp = "after_timestamp"
    }

    public var range: OffsetRange { OffsetRange(first, last) }
}
