import K2Core
/// The offsets one side holds for one partition, with how many rows carry each offset, kept as sorted
/// run-length segments: `[first, last] × copies`. A partition read from contiguous data files is a handful
/// of segments however many rows it has, so memory follows the number of gaps and duplicates, not rows.
///
/// Appending in offset order (the common case: files and pages are written in offset order) extends the
/// last segment in O(1); an out-of-order run costs a binary search and a replace of the segments it touches.
public struct OffsetCoverage: Sendable {
    // Parallel arrays, sorted by `firsts`, disjoint; two neighbouring segments never touch with equal copies.
    private(set) var firsts: [Int64] = []
    private(set) var lasts: [Int64] = []
    private(set) var copies: [UInt32] = []

    public init() {}

    public var isEmpty: Bool { firsts.isEmpty }
    public var segmentCount: Int { firsts.count }
    public var minOffset: Int64? { firsts.first }
    public var maxOffset: Int64? { lasts.last }

    /// Adds one row for each offset of `[first, last]`.
    public mutating func add(_ first: Int64, _ last: Int64) {
        precondition(first <= last)
        if let tail = lasts.last {
            if first > tail {
                let end = lasts.count - 1
                if first == tail &+ 1 && copies[end] == 1 {
                    lasts[end] = last
                } else {
                    firsts.append(first); lasts.append(last); copies.append(1)
                }
                return
            }
        } else {
            firsts.append(first); lasts.append(last); copies.append(1)
            return
        }
        insertOverlapping(first, last)
    }

    /// The general case: `[first, last]` overlaps or precedes existing segments.
    private mutating func insertOverlapping(_ first: Int64, _ last: Int64) {
        // i: the first segment ending at or after `first - 1` (a neighbour that may merge);
        // j: one past the last segment starting at or before `last + 1`.
        let i = lowerBound(lasts, first &- 1)
        let j = lowerBound(firsts, last &+ 2)
        var pieces: [(Int64, Int64, UInt32)] = []
        pieces.reserveCapacity(j - i + 2)
        var cursor = first
        for k in i..<j {
            let s = firsts[k], e = lasts[k], c = copies[k]
            if e < first || s > last {
                // A touching neighbour, kept as is (merged below if its copies match).
                pieces.append((s, e, c))
                continue
            }
            if s < first { pieces.append((s, first - 1, c)) }
            if cursor < s { pieces.append((cursor, s - 1, 1)) }
            pieces.append((max(s, first), min(e, last), c + 1))
            if e > last { pieces.append((last + 1, e, c)) }
            cursor = max(cursor, min(e, last) &+ 1)
        }
        if cursor <= last {
            // Place the uncovered tail in order (after any piece that ends before it).
            let at = pieces.firstIndex { $0.0 > cursor } ?? pieces.count
            pieces.insert((cursor, last, 1), at: at)
        }
        // Merge touching pieces with equal copies.
        var merged: [(Int64, Int64, UInt32)] = []
        merged.reserveCapacity(pieces.count)
        for piece in pieces {
            if let previous = merged.last, previous.1 &+ 1 == piece.0, previous.2 == piece.2 {
                merged[merged.count - 1].1 = piece.1
            } else {
                merged.append(piece)
            }
        }
        firsts.replaceSubrange(i..<j, with: merged.map { $0.0 })
        lasts.replaceSubrange(i..<j, with: merged.map { $0.1 })
        copies.replaceSubrange(i..<j, with: merged.map { $0.2 })
    }

    private func lowerBound(_ array: [Int64], _ value: Int64) -> Int {
        var low = 0, high = array.count
        while low < high {
            let mid = (low + high) / 2
            if array[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The distinct offsets as ranges, adjacent segments joined whatever their copies.
    public var distinctRanges: [OffsetRange] {
        var result: [OffsetRange] = []
        for k in firsts.indices {
            if let previous = result.last, previous.last &+ 1 == firsts[k] {
                result[result.count - 1].last = lasts[k]
            } else {
                result.append(OffsetRange(firsts[k], lasts[k]))
            }
        }
        return result
    }

    /// Offsets held by more than one row, as ranges with the number of rows each offset of the range has.
    public var duplicates: [DuplicateRange] {
        firsts.indices.compactMap { k in
            copies[k] > 1 ? DuplicateRange(first: firsts[k], last: lasts[k], count: Int(copies[k])) : nil
        }
    }

    public var distinctCount: Int64 {
        firsts.indices.reduce(0) { $0 + (lasts[$1] - firsts[$1] + 1) }
    }

    public var rowCount: Int64 {
        firsts.indices.reduce(0) { $0 + (lasts[$1] - firsts[$1] + 1) * Int64(copies[$1]) }
    }
}

/// Offsets `[first, last]`, each held by `count` rows (count ≥ 2).
public struct DuplicateRange: Hashable, Sendable, Codable {
    public var first: Int64
    public var last: Int64
    public var count: Int

    public init(first: Int64, last: Int64, count: Int) {
        self.first = first
        self.last = last
        self.count = count
    }

    /// Rows beyond the first for each offset of the range.
    public var extraRows: Int64 { (last - first + 1) * Int64(count - 1) }
}
