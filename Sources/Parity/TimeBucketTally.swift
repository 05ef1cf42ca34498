/// Rows per bucket of Kafka timestamp for one side and partition, at the finest width that keeps at most
/// `maximumBuckets` buckets: it starts at one second and coarsens (10 s, 1 min, 5 min, 15 min) as the data's
/// span grows, and gives up beyond that (days of data are charted from the hourly tallies). Memory is bounded
/// by `maximumBuckets`, whatever the rows.
struct TimeBucketTally {
    static let widths: [Int64] = [1, 10, 60, 300, 900]
    /// Twice the chart's 240 buckets: a width the chart can pick (fewer than 240 buckets over the whole
    /// report's span) is never coarsened away here, and a partition costs a few kilobytes.
    static let maximumBuckets = 480

    /// Index into `widths`; nil once the span is too long for the finest-but-hourly widths.
    private(set) var widthIndex: Int? = 0
    private(set) var buckets: [Int64: Int64] = [:]
    // The bucket the last rows fell into, so rows in time order cost no hash lookup.
    private var current: Int64 = .min
    private var currentRows: Int64 = 0

    var bucketSeconds: Int64? { widthIndex.map { Self.widths[$0] } }

    mutating func add(timestampMicros: Int64) {
        guard let index = widthIndex else { return }
        let bucket = Self.bucket(timestampMicros, seconds: Self.widths[index])
        if bucket == current { currentRows += 1; return }
        flush()
        // The flush may have coarsened the width: count this row at the new one.
        guard let now = widthIndex else { return }
        current = now == index ? bucket : Self.bucket(timestampMicros, seconds: Self.widths[now])
        currentRows = 1
    }

    private static func bucket(_ micros: Int64, seconds: Int64) -> Int64 {
        let width = seconds * 1_000_000
        return micros >= 0 ? micros / width : (micros + 1) / width - 1
    }

    mutating func finish() { flush() }

    /// The buckets re-counted at `seconds` (a multiple of this tally's width), keyed by bucket start in seconds.
    func counts(atSeconds seconds: Int64) -> [Int64: Int64] {
        guard let own = bucketSeconds else { return [:] }
        var result: [Int64: Int64] = [:]
        var all = buckets
        if current != .min && currentRows > 0 { all[current, default: 0] += currentRows }
        for (bucket, rows) in all {
            let start = bucket * own
            let coarse = start >= 0 ? start / seconds : (start + 1) / seconds - 1
            result[coarse * seconds, default: 0] += rows
        }
        return result
    }

    private mutating func flush() {
        guard current != .min, currentRows > 0, let index = widthIndex else { return }
        buckets[current, default: 0] += currentRows
        current = .min
        currentRows = 0
        if buckets.count > Self.maximumBuckets { coarsen(from: index) }
    }

    private mutating func coarsen(from index: Int) {
        var index = index
        while buckets.count > Self.maximumBuckets {
            guard index + 1 < Self.widths.count else {
                widthIndex = nil
                buckets = [:]
                return
            }
            let factor = Self.widths[index + 1] / Self.widths[index]
            var coarser: [Int64: Int64] = [:]
            for (bucket, rows) in buckets {
                coarser[bucket >= 0 ? bucket / factor : (bucket + 1) / factor - 1, default: 0] += rows
            }
            buckets = coarser
            index += 1
        }
        widthIndex = index
    }
}
