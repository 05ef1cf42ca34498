import Foundation

/// Parses durations as typed on a command line: `500ms`, `90s`, `15m`, `2h`, `7d`, or a bare number of seconds.
public enum DurationParser {
    /// Returns the duration in nanoseconds, or nil when `text` is not a duration or exceeds 64-bit
    /// nanoseconds (about 292 years).
    public static func nanoseconds(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ms", 1e6), ("us", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9), ("h", 3600e9), ("d", 86400e9)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            guard let value = Double(trimmed.dropLast(suffix.count)), value >= 0 else { return nil }
            return TimeParser.checkedNanoseconds(value * scale)
        }
        guard let seconds = Double(trimmed), seconds >= 0 else { return nil }
        return TimeParser.checkedNanoseconds(seconds * 1e9)
    }
}
