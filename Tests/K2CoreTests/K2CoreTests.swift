import Foundation
import K2Core
import XCTest

final class K2CoreTests: XCTestCase {
    /// The published FNV-1a-64 test vectors (Fowler/Noll/Vo reference test suite).
    func testFNV1aMatchesTheReferenceVectors() {
        XCTAssertEqual(FNV1a.hash([UInt8]()), 0xcbf2_9ce4_8422_2325)
        XCTAssertEqual(FNV1a.hash(Array("a".utf8)), 0xaf63_dc4c_8601_ec8c)
        XCTAssertEqual(FNV1a.hash(Array("foobar".utf8)), 0x8594_4171_f739_67e8)
        XCTAssertEqual(FNV1a.hex(0xaf63_dc4c_8601_ec8c), "af63dc4c8601ec8c")
        XCTAssertEqual(FNV1a.hex(1), "0000000000000001")
        // Fields are NUL-terminated, so a boundary moved between fields changes the hash.
        XCTAssertNotEqual(FNV1a.hash(fields: ["ab", "c"]), FNV1a.hash(fields: ["a", "bc"]))
        XCTAssertEqual(FNV1a.hash(fields: ["a"]), FNV1a.hash(Array("a".utf8) + [0]))
    }

    /// Every day from 1600 to 2400 converts both ways, and agrees with Foundation's Gregorian calendar.
    func testCivilDateRoundTripsAndAgreesWithFoundation() {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for days in Int64(-135_140)...Int64(157_000) {
            let date = CivilDate(daysSinceEpoch: days)
            XCTAssertEqual(date.daysSinceEpoch, days)
            if days % 997 == 0 {
                let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(days) * 86_400))
                XCTAssertEqual([date.year, date.month, date.day], [Int64(parts.year!), Int64(parts.month!), Int64(parts.day!)], "day \(days)")
            }
        }
        XCTAssertEqual(CivilDate(daysSinceEpoch: 0).text, "1970-01-01")
        XCTAssertEqual(CivilDate(daysSinceEpoch: 19_762).text, "2024-02-09")
        XCTAssertEqual(CivilDate(daysSinceEpoch: -1).text, "1969-12-31")
        XCTAssertEqual(CivilDate(year: 2024, month: 2, day: 29).daysSinceEpoch, 19_782)
        XCTAssertEqual(CivilDate.floorDivide(-1, 86_400), -1)
        XCTAssertEqual(CivilDate.floorDivide(86_400, 86_400), 1)
    }

    /// JSON string literals that JSONSerialization reads back to the same string.
    func testJSONTextEscapesWhatRFC8259Requires() throws {
        let samples = ["plain", "quote \" backslash \\ slash /", "tab\tnewline\ncr\r", "\u{0}\u{1}\u{1f}", "€ 🚀 ü"]
        for sample in samples {
            let literal = JSONText.quoted(sample)
            let decoded = try JSONSerialization.jsonObject(with: Data("[\(literal)]".utf8)) as? [String]
            XCTAssertEqual(decoded, [sample], literal)
        }
        XCTAssertEqual(JSONText.quoted("\u{1}"), #""\u0001""#)
        XCTAssertEqual(JSONText.array(["a", "b\""]), #"["a","b\""]"#)
    }
}
