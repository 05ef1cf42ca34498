/// RFC 3339 text in UTC for instants the toolkit prints (reports, checkpoints, logs), through `CivilDate`:
/// no Foundation formatter, whose first use loads ICU's calendar data.
public enum RFC3339 {
    /// `2024-02-09T10:00:00Z` (0 fraction digits), `2024-02-09T10:00:00.123Z` (3), up to 9 digits.
    public static func format(epochNanoseconds nanos: Int64, fractionDigits: Int = 3) -> String {
        let seconds = CivilDate.floorDivide(nanos, 1_000_000_000)
        return format(epochSeconds: seconds, nanoseconds: nanos - seconds * 1_000_000_000, fractionDigits: fractionDigits)
    }

    /// Seconds and the nanoseconds within the second, for instants outside what 64-bit nanoseconds hold
    /// (years before 1677 or after 2262).
    public static func format(epochSeconds seconds: Int64, nanoseconds fraction: Int64 = 0, fractionDigits: Int = 0) -> String {
        let days = CivilDate.floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        var text = CivilDate(daysSinceEpoch: days).text + "T" + CivilDate.padded(secondOfDay / 3600, 2) + ":"
            + CivilDate.padded(secondOfDay / 60 % 60, 2) + ":" + CivilDate.padded(secondOfDay % 60, 2)
        let digits = min(max(fractionDigits, 0), 9)
        if digits > 0 {
            var divisor: Int64 = 1
            for _ in digits..<9 { divisor *= 10 }
            text += "." + CivilDate.padded(fraction / divisor, digits)
        }
        return text + "Z"
    }
}
