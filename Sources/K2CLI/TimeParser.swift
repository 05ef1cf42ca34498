import Foundation
import K2Core

/// Parses points in time as typed on a command line: RFC 3339 (`2024-02-09T10:00:00Z`,
/// `2024-02-09T10:00:00.123+01:00`), a date (`2024-02-09`, midnight UTC), or epoch seconds / milliseconds
/// (`1707472723`, `1707472723123`; 13 digits or more are milliseconds).
public enum TimeParser {
    /// Returns nanoseconds since the Unix epoch, or nil when `text` is not a time or lies outside what 64-bit
    /// nanoseconds hold (years 1677 to 2262).
    public static func epochNanoseconds(_ text: String) -> Int64? {
        if let number = Int64(text) {
            let (nanos, overflow) = number.multipliedReportingOverflow(by: text.count >= 13 ? 1_000_000 : 1_000_000_000)
            return overflow ? nil : nanos
        }
        if let number = Double(text) { return checkedNanoseconds(number * 1e9) }
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        let dateOnly = ISO8601DateFormatter()
        dateOnly.formatOptions = [.withFullDate]
        for formatter in [withFraction, plain, dateOnly] {
            if let date = formatter.date(from: text) {
                return checkedNanoseconds((date.timeIntervalSince1970 * 1e9).rounded())
            }
        }
        return nil
    }

    /// `value` as Int64 when it is a finite number inside Int64's range (a plain conversion traps otherwise).
    public static func checkedNanoseconds(_ value: Double) -> Int64? {
        guard value.isFinite, value >= -9.223_372_036_854_775e18, value < 9.223_372_036_854_775e18 else { return nil }
        return Int64(value)
    }

    /// RFC 3339 in UTC to the second (`2024-02-09T10:00:00Z`).
    public static func rfc3339(epochSeconds: Int) -> String {
        RFC3339.format(epochSeconds: Int64(epochSeconds))
    }

    /// RFC 3339 in UTC with milliseconds, for reports.
    public static func rfc3339(epochNanoseconds: Int64) -> String {
        RFC3339.format(epochNanoseconds: epochNanoseconds, fractionDigits: 3)
    }
}
