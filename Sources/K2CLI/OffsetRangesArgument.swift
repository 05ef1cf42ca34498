import K2Core

/// `--offsets` and `--from-offset`, one spelling in every program that reads a Kafka range (k2-replay's
/// kafka:// source, k2-capture kafka, k2-verify's Kafka sides): `--offsets` takes per-partition ranges
/// (`PartitionOffsetRanges`), `--from-offset N` is the shorthand `--offsets N-` (kafka-console-consumer's
/// `--offset`).
public enum OffsetRangesArgument {
    public static let offsetsHelp = """
        Offset ranges, kcat-style: [P:]FIRST-LAST (inclusive, as k2-verify reports them), [P:]FIRST- (to the end) \
        or [P:]FIRST+COUNT, comma-separated; FIRST is an offset, earliest or latest; a range without P: applies \
        to every partition no P: range names (e.g. 0:100-199,3:150+50 or earliest-).
        """
    public static let fromOffsetHelp = "Start offset for every partition: earliest, latest or an offset (--offsets N- in short)."

    /// The ranges `--offsets` or `--from-offset` give (never both); nil when neither was given.
    public static func parse(offsets: String?, fromOffset: String?) throws -> PartitionOffsetRanges? {
        if offsets != nil && fromOffset != nil { throw UsageError("give --offsets or --from-offset, not both") }
        if let fromOffset {
            switch fromOffset {
            case "beginning": throw UsageError("--from-offset beginning: write --from-offset earliest")
            case "end": throw UsageError("--from-offset end: write --from-offset latest")
            default: break
            }
            guard fromOffset == "earliest" || fromOffset == "latest" || (Int64(fromOffset).map { $0 >= 0 } ?? false) else {
                throw UsageError("--from-offset \(fromOffset): expected earliest, latest or an offset")
            }
            return try PartitionOffsetRanges(parsing: fromOffset + "-")
        }
        guard let offsets else { return nil }
        do {
            return try PartitionOffsetRanges(parsing: offsets)
        } catch let error as PartitionOffsetRanges.ParseError {
            throw UsageError("--offsets \(error.description)")
        }
    }
}
