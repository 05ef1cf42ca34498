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

    /// The epoch seconds of a `timestamp(micros:)` text (`YYYY-MM-DDTHH:MM:SS[.fff]Z`), for reading a
    /// report's own keys back; nil for any other text.
    static func epochSeconds(timestamp text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"), bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int64? { Int64(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        let days = CivilDate(year: year, month: month, day: day).daysSinceEpoch
        return days * 86400 + hour * 3600 + minute * 60 + second
    }

    private static func pad(_ value: Int64, _ width: Int) -> String { CivilDate.padded(value, width) }
}
