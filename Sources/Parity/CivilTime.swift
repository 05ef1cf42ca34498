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
        RFC3339.format(epochNanoseconds: micros.multipliedReportingOverflow(by: 1000).partialValue, fractionDigits: 3)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String { CivilDate.padded(value, width) }
}
