/// Which offsets of a Kafka topic to read, per partition: the `--offsets` value of every program that reads a
/// Kafka range (k2-replay's and k2-verify's kafka:// sides, k2-capture kafka).
///
/// Written as a comma-separated list of `[P:]FIRST-LAST`, where FIRST is an offset or `earliest`, LAST an
/// offset (inclusive, as k2-verify reports ranges `[first, last]`) or nothing (up to the end), or `FIRST+COUNT`
/// (COUNT offsets from FIRST). A range with `P:` applies to partition P (several may name one partition); one
/// without applies to every partition no `P:` range names. `0:100-199,3:150+50` reads offsets 100-199 of
/// partition 0 and 150-199 of partition 3 and nothing else; `earliest-` reads everything.
public struct PartitionOffsetRanges: Equatable, Sendable, CustomStringConvertible {
    /// Where a range starts.
    public enum Start: Equatable, Sendable {
        /// The partition's earliest offset (what retention kept).
        case earliest
        /// The partition's end when the read starts: only what is produced from then on.
        case latest
        case offset(Int64)
    }

    /// One range of a partition: `first` to `last` inclusive, or with no `last` up to the end.
    public struct Span: Equatable, Sendable, CustomStringConvertible {
        public var first: Start
        public var last: Int64?

        public init(first: Start, last: Int64? = nil) {
            self.first = first
            self.last = last
        }

        public var description: String {
            let start: String
            switch first {
            case .earliest: start = "earliest"
            case .latest: start = "latest"
            case .offset(let n): start = String(n)
            }
            return start + "-" + (last.map(String.init) ?? "")
        }

        /// This span on a partition holding `low..<high`: the inclusive offsets it covers there, or nil when none.
        public func resolved(low: Int64, high: Int64) -> OffsetRange? {
            let start: Int64
            switch first {
            case .earliest: start = low
            case .latest: start = high
            case .offset(let n): start = n
            }
            let end = min(last ?? (high - 1), high - 1)
            return start <= end ? OffsetRange(start, end) : nil
        }
    }

    /// Ranges for every partition no entry of `partitions` names; empty: only those partitions.
    public var everyPartition: [Span]
    /// Ranges of named partitions, each list in offset order.
    public var partitions: [Int32: [Span]]

    public init(everyPartition: [Span], partitions: [Int32: [Span]] = [:]) {
        self.everyPartition = everyPartition
        self.partitions = partitions
    }

    /// Every offset of every partition (what a read without `--offsets` takes).
    public static let everything = PartitionOffsetRanges(everyPartition: [Span(first: .earliest)])

    /// Exactly these inclusive ranges per partition, and nothing of any other partition (a repair's plan).
    public init(exactly ranges: [Int32: [OffsetRange]]) {
        everyPartition = []
        partitions = ranges.filter { !$0.value.isEmpty }.mapValues { list in
            OffsetRanges.union(list, []).map { Span(first: .offset($0.first), last: $0.last) }
        }
    }

    /// The ranges of `partition`, or nil when it is not selected at all.
    public func spans(of partition: Int32) -> [Span]? {
        if let named = partitions[partition] { return named }
        return everyPartition.isEmpty ? nil : everyPartition
    }

    /// The partitions named with `P:` when no range applies to all; nil when every partition is selected.
    public var onlyPartitions: Set<Int32>? {
        everyPartition.isEmpty ? Set(partitions.keys) : nil
    }

    /// Whether every span starts at an offset or `earliest` and has no end: a plain "from here on".
    public var isOpenEnded: Bool {
        (everyPartition + partitions.values.flatMap { $0 }).allSatisfy { $0.last == nil }
    }

    /// The smallest offset any range starts at and the largest any ends at, over all partitions: what a reader
    /// of files whose statistics bound the offset column can prune by. nil lower: some range starts at
    /// `earliest` or `latest`; nil upper: some range has no end.
    public var offsetBounds: (lower: Int64?, upper: Int64?) {
        let spans = everyPartition + partitions.values.flatMap { $0 }
        var lower: Int64? = spans.isEmpty ? nil : .max
        var upper: Int64? = spans.isEmpty ? nil : .min
        for span in spans {
            if case .offset(let n) = span.first, let l = lower { lower = min(l, n) } else { lower = nil }
            if let last = span.last, let u = upper { upper = max(u, last) } else { upper = nil }
        }
        return (lower, upper)
    }

    /// Whether `offset` of `partition` is selected (a `latest` start selects nothing here: it is resolved
    /// against the partition's end by `resolved`).
    public func contains(partition: Int32, offset: Int64) -> Bool {
        guard let spans = spans(of: partition) else { return false }
        return spans.contains { span in
            switch span.first {
            case .earliest: break
            case .latest: return false
            case .offset(let n): if offset < n { return false }
            }
            return span.last.map { offset <= $0 } ?? true
        }
    }

    /// The inclusive ranges of `partition` on a partition holding `low..<high`, sorted and merged.
    public func resolved(partition: Int32, low: Int64, high: Int64) -> [OffsetRange] {
        OffsetRanges.union(spans(of: partition)?.compactMap { $0.resolved(low: low, high: high) } ?? [], [])
    }

    /// The canonical text (partitions in order; it parses back to an equal value): what a run's identity hashes.
    public var description: String {
        let all = everyPartition.map(\.description)
        let named = partitions.keys.sorted().flatMap { p in partitions[p]!.map { "\(p):\($0)" } }
        return (all + named).joined(separator: ",")
    }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let description: String
    }

    /// Parses the `--offsets` text (see the type's comment).
    public init(parsing text: String) throws {
        var every: [Span] = []
        var named: [Int32: [Span]] = [:]
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
        for item in items {
            let entry = String(item.filter { $0 != " " })
            guard !entry.isEmpty else { throw ParseError(description: "\(text): an empty range") }
            var rangeText = Substring(entry)
            var partition: Int32?
            if let colon = entry.firstIndex(of: ":") {
                guard let p = Int32(entry[..<colon]), p >= 0, p <= 999_999 else {
                    throw ParseError(description: "\(entry): the partition before ':' must be a number from 0 to 999999")
                }
                partition = p
                rangeText = entry[entry.index(after: colon)...]
            }
            let span = try Self.span(rangeText, item: entry)
            if let partition { named[partition, default: []].append(span) } else { every.append(span) }
        }
        everyPartition = every
        partitions = named.mapValues { spans in spans.sorted { Self.order($0) < Self.order($1) } }
    }

    private static func order(_ span: Span) -> Int64 {
        switch span.first {
        case .earliest: return Int64.min
        case .latest: return Int64.max
        case .offset(let n): return n
        }
    }

    private static func span(_ text: Substring, item: String) throws -> Span {
        func start(_ s: Substring) throws -> Start {
            switch s {
            case "earliest": return .earliest
            case "latest": return .latest
            case "beginning": throw ParseError(description: "\(item): write earliest (kcat's beginning)")
            case "end": throw ParseError(description: "\(item): write latest (kcat's end)")
            default:
                guard let n = Int64(s), n >= 0 else {
                    throw ParseError(description: "\(item): \(s) is not an offset (0 or more), earliest or latest")
                }
                return .offset(n)
            }
        }
        if let plus = text.firstIndex(of: "+") {
            guard case .offset(let first) = try start(text[..<plus]) else {
                throw ParseError(description: "\(item): FIRST+COUNT needs a numeric FIRST")
            }
            guard let count = Int64(text[text.index(after: plus)...]), count > 0, first <= Int64.max - (count - 1) else {
                throw ParseError(description: "\(item): the COUNT after '+' must be a number 1 or more")
            }
            return Span(first: .offset(first), last: first + count - 1)
        }
        guard let dash = text.firstIndex(of: "-") else {
            throw ParseError(description: "\(item): write FIRST-LAST, FIRST- (to the end) or FIRST+COUNT (\(text)-\(text) is that one offset)")
        }
        let first = try start(text[..<dash])
        let lastText = text[text.index(after: dash)...]
        guard !lastText.isEmpty else { return Span(first: first) }
        guard let last = Int64(lastText), last >= 0 else {
            throw ParseError(description: "\(item): the LAST after '-' must be an offset (0 or more) or nothing (to the end)")
        }
        if case .offset(let n) = first, n > last {
            throw ParseError(description: "\(item): the range is empty (\(n) is after \(last))")
        }
        if first == .latest { throw ParseError(description: "\(item): a range from latest has no LAST: write latest-") }
        return Span(first: first, last: last)
    }
}
