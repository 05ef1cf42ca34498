/// An inclusive range of Kafka offsets, written `[first, last]` in reports.
public struct OffsetRange: Hashable, Sendable, Codable, CustomStringConvertible {
    public var first: Int64
    public var last: Int64

    public init(_ first: Int64, _ last: Int64) {
        precondition(first <= last, "empty offset range [\(first), \(last)]")
        self.first = first
        self.last = last
    }

    public var count: Int64 { last - first + 1 }
    public var description: String { first == last ? "\(first)" : "\(first)-\(last)" }

    // Encoded as a two-element array, the report's `[first, last]`.
    public init(from decoder: Decoder) throws {
        var container = try decoder.unkeyedContainer()
        let first = try container.decode(Int64.self)
        let last = try container.decode(Int64.self)
        self.init(first, last)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(first)
        try container.encode(last)
    }
}

/// Operations on sorted lists of disjoint, non-adjacent ranges (what `OffsetCoverage.distinctRanges` gives).
public enum OffsetRanges {
    /// The offsets in `a` that are not in `b`.
    public static func subtracting(_ a: [OffsetRange], _ b: [OffsetRange]) -> [OffsetRange] {
        var result: [OffsetRange] = []
        var j = 0
        for range in a {
            var start = range.first
            while j < b.count && b[j].last < start { j += 1 }
            var k = j
            while k < b.count && b[k].first <= range.last {
                if b[k].first > start { result.append(OffsetRange(start, b[k].first - 1)) }
                if b[k].last >= range.last { start = range.last + 1; break }
                start = max(start, b[k].last + 1)
                k += 1
            }
            if start <= range.last { result.append(OffsetRange(start, range.last)) }
        }
        return result
    }

    /// The offsets in both `a` and `b`.
    public static func intersecting(_ a: [OffsetRange], _ b: [OffsetRange]) -> [OffsetRange] {
        var result: [OffsetRange] = []
        var i = 0, j = 0
        while i < a.count && j < b.count {
            let first = max(a[i].first, b[j].first), last = min(a[i].last, b[j].last)
            if first <= last { result.append(OffsetRange(first, last)) }
            if a[i].last < b[j].last { i += 1 } else { j += 1 }
        }
        return result
    }

    /// `ranges` split at `floor`: the part below it and the part from it on.
    public static func split(_ ranges: [OffsetRange], below floor: Int64) -> (below: [OffsetRange], atOrAbove: [OffsetRange]) {
        var below: [OffsetRange] = [], above: [OffsetRange] = []
        for range in ranges {
            if range.last < floor { below.append(range) }
            else if range.first >= floor { above.append(range) }
            else {
                below.append(OffsetRange(range.first, floor - 1))
                above.append(OffsetRange(floor, range.last))
            }
        }
        return (below, above)
    }

    /// The offsets in `a` or `b` (each once: a set union, merged where ranges touch).
    public static func union(_ a: [OffsetRange], _ b: [OffsetRange]) -> [OffsetRange] {
        var result: [OffsetRange] = []
        for range in (a + b).sorted(by: { $0.first < $1.first }) {
            if let last = result.last, range.first <= last.last &+ 1 {
                if range.last > last.last { result[result.count - 1] = OffsetRange(last.first, range.last) }
            } else {
                result.append(range)
            }
        }
        return result
    }

    public static func offsetCount(_ ranges: [OffsetRange]) -> Int64 {
        ranges.reduce(0) { $0 + $1.count }
    }
}
