import K2Core

/// Calendar text for report keys, without a formatter per call: days since the epoch → `YYYY-MM-DD`,
/// hours since the epoch → `YYYY-MM-DDTHH:00Z` (proleptic Gregorian, UTC; H. Hinnant's civil_from_days).
enum CivilTime {
    static func date(days: Int64) -> String {
        CivilDate(daysSinceEpoch: days).text
    }

    static func hour(hours: Int64) -> String {
        let days = hours >= 0 ? hours / 24 : (hours - 23) / 24
        let hourOfDay = hours - days * 24
        return "\(date(days: days))T\(pad(hourOfDay, 2)):00Z"
    }

    static func timestamp(micros: Int64) -> String {
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let millis = fraction / 1000
        return "\(date(days: days))T\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    private static func pad(_ value: Int64, _ width: Int) -> String { CivilDate.padded(value, width) }
}
