import Foundation

/// Parses points in time as typed on a command line: RFC 3339 (`2024-02-09T10:00:00Z`,
/// `2024-02-09T10:00:00.123+01:00`), a date (`2024-02-09`, midnight UTC), or epoch seconds / milliseconds
/// (`1707472723`, `1707472723123`; 13 digits or more are milliseconds).
public enum TimeParser {
    /// Returns nanoseconds since the Unix epoch, or nil when `text` is not a time.
    public static func epochNanoseconds(_ text: String) -> Int64? {
        if let number = Int64(text) {
            return text.count >= 13 ? number * 1_000_000 : number * 1_000_000_000
        }
        if let number = Double(text) { return Int64(number * 1e9) }
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        for formatter in [withFraction, plain, dateOnly] {
            if let date = formatter.date(from: text) {
                return Int64((date.timeIntervalSince1970 * 1e9).rounded())
            }
        }
        return nil
    }

    /// RFC 3339 in UTC to the second (`2024-02-09T10:00:00Z`, as `ISO8601DateFormatter()` writes it), without
    /// Foundation's formatters: their first use loads ICU's calendar and time-zone data, about 5 ms of a
    /// short replay's start-up, only to stamp its checkpoint.
    public static func rfc3339(epochSeconds: Int) -> String {
        var time = time_t(epochSeconds)
        var parts = tm()
        var text = [CChar](repeating: 0, count: 32)
        guard gmtime_r(&time, &parts) != nil, strftime(&text, text.count, "%Y-%m-%dT%H:%M:%SZ", &parts) > 0 else {
            return "\(epochSeconds)"
        }
        return String(cString: text)
    }

    /// RFC 3339 in UTC with milliseconds, for reports.
    public static func rfc3339(epochNanoseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(epochNanoseconds) / 1e9))
    }
}
