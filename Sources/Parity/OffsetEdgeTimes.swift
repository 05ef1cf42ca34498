/// The Kafka timestamp at both ends of every run of consecutive offsets one side holds for one partition, so
/// a report can say when the data on each side of a gap was written without a timestamp per offset: memory
/// follows the number of gaps, as `OffsetCoverage`'s does. Duplicated offsets do not split a run.
struct OffsetEdgeTimes {
    // Parallel arrays, sorted by `firsts`, disjoint and never touching (touching runs are merged).
    private(set) var firsts: [Int64] = []
    private(set) var lasts: [Int64] = []
    private(set) var firstTimes: [Int64] = []
    private(set) var lastTimes: [Int64] = []

    /// An offset and its Kafka timestamp (microseconds since the epoch).
    struct Edge: Equatable {
        var offset: Int64
        var timestampMicros: Int64
    }

    mutating func add(offset: Int64, timestampMicros: Int64) {
        // In offset order (the common case): extend the last run, or start one after it.
        if let tail = lasts.last, offset > tail {
            if offset == tail &+ 1 {
                lasts[lasts.count - 1] = offset
                lastTimes[lastTimes.count - 1] = timestampMicros
            } else {
                append(offset, timestampMicros, at: firsts.count)
            }
            return
        }
        if firsts.isEmpty { append(offset, timestampMicros, at: 0); return }
        // i: the first run ending at or after `offset`.
        let i = Self.lowerBound(lasts, offset)
        if i < firsts.count && firsts[i] <= offset { return }   // already held (a duplicate)
        let joinsPrevious = i > 0 && lasts[i - 1] &+ 1 == offset
        let joinsNext = i < firsts.count && firsts[i] == offset &+ 1
        switch (joinsPrevious, joinsNext) {
        case (true, true):
            lasts[i - 1] = lasts[i]
            lastTimes[i - 1] = lastTimes[i]
            firsts.remove(at: i); lasts.remove(at: i); firstTimes.remove(at: i); lastTimes.remove(at: i)
        case (true, false):
            lasts[i - 1] = offset
            lastTimes[i - 1] = timestampMicros
        case (false, true):
            firsts[i] = offset
            firstTimes[i] = timestampMicros
        case (false, false):
            append(offset, timestampMicros, at: i)
        }
    }

    /// The highest offset held below `offset`, with its timestamp.
    func last(below offset: Int64) -> Edge? {
        let i = Self.lowerBound(lasts, offset)   // runs before i end below `offset`
        if i < firsts.count && firsts[i] < offset {
            // `offset` falls inside run i: its predecessor is held, but its time is only known at run ends.
            return offset &- 1 == firsts[i] ? Edge(offset: firsts[i], timestampMicros: firstTimes[i]) : nil
        }
        guard i > 0 else { return nil }
        return Edge(offset: lasts[i - 1], timestampMicros: lastTimes[i - 1])
    }

    /// The lowest offset held above `offset`, with its timestamp.
    func first(above offset: Int64) -> Edge? {
        let i = Self.lowerBound(lasts, offset &+ 1)   // the first run ending above `offset`
        guard i < firsts.count else { return nil }
        if firsts[i] <= offset {
            return offset &+ 1 == lasts[i] ? Edge(offset: lasts[i], timestampMicros: lastTimes[i]) : nil
        }
        return Edge(offset: firsts[i], timestampMicros: firstTimes[i])
    }

    private mutating func append(_ offset: Int64, _ time: Int64, at index: Int) {
        firsts.insert(offset, at: index); lasts.insert(offset, at: index)
        firstTimes.insert(time, at: index); lastTimes.insert(time, at: index)
    }

    private static func lowerBound(_ array: [Int64], _ value: Int64) -> Int {
        var low = 0, high = array.count
        while low < high {
            let mid = (low + high) / 2
            if array[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
