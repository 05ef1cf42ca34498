/// Everything one side contributes for one partition in the first pass: which offsets, how many rows, and
/// rows per hour of Kafka timestamp and per ingestion date. Bounded by gaps and hours, not by rows.
struct PartitionTally {
    var coverage = OffsetCoverage()
    /// Timestamps at the ends of each run of offsets: the times at the edges of a gap.
    var edges = OffsetEdgeTimes()
    /// Rows per second, minute, ... for charts of data spanning minutes rather than days.
    var buckets = TimeBucketTally()
    /// Per hour (hours since the epoch): rows, and the lowest and highest offset seen in that hour, so a
    /// missing range can be placed in time without keeping a timestamp per offset.
    var hours: [Int64: HourTally] = [:]
    var days: [Int32: Int64] = [:]
    var minTimestampMicros: Int64 = .max
    var maxTimestampMicros: Int64 = .min

    // The last bucket touched, so rows in time order cost no hash lookup.
    private var currentHour: Int64 = .min
    private var currentHourTally = HourTally()
    private var currentDay: Int32 = .min
    private var currentDayCount: Int64 = 0

    struct HourTally {
        var rows: Int64 = 0
        var minOffset: Int64 = .max
        var maxOffset: Int64 = .min
    }

    mutating func add(offset: Int64, timestampMicros: Int64) {
        edges.add(offset: offset, timestampMicros: timestampMicros)
        buckets.add(timestampMicros: timestampMicros)
        let hour = timestampMicros >= 0 ? timestampMicros / 3_600_000_000 : (timestampMicros + 1) / 3_600_000_000 - 1
        if hour != currentHour {
            flushHour()
            currentHour = hour
            currentHourTally = hours[hour] ?? HourTally()
        }
        currentHourTally.rows += 1
        if offset < currentHourTally.minOffset { currentHourTally.minOffset = offset }
        if offset > currentHourTally.maxOffset { currentHourTally.maxOffset = offset }
        if timestampMicros < minTimestampMicros { minTimestampMicros = timestampMicros }
        if timestampMicros > maxTimestampMicros { maxTimestampMicros = timestampMicros }
    }

    mutating func add(day: Int32) {
        if day != currentDay {
            flushDay()
            currentDay = day
            currentDayCount = 0
        }
        currentDayCount += 1
    }

    mutating func finish() {
        buckets.finish()
        flushHour()
        flushDay()
        currentHour = .min
        currentDay = .min
    }

    private mutating func flushHour() {
        if currentHour != .min && currentHourTally.rows > 0 { hours[currentHour] = currentHourTally }
        currentHourTally = HourTally()
    }

    private mutating func flushDay() {
        if currentDay != .min && currentDayCount > 0 { days[currentDay, default: 0] += currentDayCount }
        currentDayCount = 0
    }
}
