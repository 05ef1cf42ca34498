import K2Core
import XCTest

final class PartitionOffsetRangesTests: XCTestCase {
    func testRangesPerPartitionAndForEveryOther() throws {
        let ranges = try PartitionOffsetRanges(parsing: "0:100-199,3:150+50,0:20-29,500-")
        XCTAssertEqual(ranges.spans(of: 0), [.init(first: .offset(20), last: 29), .init(first: .offset(100), last: 199)], "sorted by first offset")
        XCTAssertEqual(ranges.spans(of: 3), [.init(first: .offset(150), last: 199)], "FIRST+COUNT is COUNT offsets")
        XCTAssertEqual(ranges.spans(of: 7), [.init(first: .offset(500))], "a range without P: is every other partition's")
        XCTAssertNil(ranges.onlyPartitions)
        XCTAssertTrue(ranges.contains(partition: 0, offset: 199))
        XCTAssertFalse(ranges.contains(partition: 0, offset: 200))
        XCTAssertFalse(ranges.contains(partition: 0, offset: 50), "between two ranges")
        XCTAssertFalse(ranges.contains(partition: 0, offset: 600), "a named partition takes only its own ranges")
        XCTAssertTrue(ranges.contains(partition: 9, offset: 10_000))
        XCTAssertEqual(ranges.description, "500-,0:20-29,0:100-199,3:150-199")
        XCTAssertEqual(try PartitionOffsetRanges(parsing: ranges.description), ranges, "the canonical text parses back")
    }

    func testOnlyNamedPartitionsAndResolutionAgainstWatermarks() throws {
        let ranges = try PartitionOffsetRanges(parsing: "1:earliest-9,1:40-,2:latest-")
        XCTAssertEqual(ranges.onlyPartitions, [1, 2])
        XCTAssertNil(ranges.spans(of: 0))
        // Partition 1 holds 5..<50: earliest is 5, an open end stops at 49; ranges that touch merge.
        XCTAssertEqual(ranges.resolved(partition: 1, low: 5, high: 50), [OffsetRange(5, 9), OffsetRange(40, 49)])
        XCTAssertEqual(ranges.resolved(partition: 2, low: 0, high: 50), [], "latest: nothing yet")
        // Below the low watermark stays visible, so what retention removed can be reported.
        XCTAssertEqual(try PartitionOffsetRanges(parsing: "0-9").resolved(partition: 0, low: 5, high: 50), [OffsetRange(0, 9)])
        XCTAssertEqual(PartitionOffsetRanges(exactly: [4: [OffsetRange(10, 19), OffsetRange(20, 25)], 5: []]).description, "4:10-25")
    }

    func testOffsetBoundsOverAllPartitionsForFilePruning() throws {
        let closed = try PartitionOffsetRanges(parsing: "0:100-199,3:150+50,5:20-29")
        XCTAssertEqual(closed.offsetBounds.lower, 20)
        XCTAssertEqual(closed.offsetBounds.upper, 199)
        let open = try PartitionOffsetRanges(parsing: "0:100-199,7-")
        XCTAssertEqual(open.offsetBounds.lower, 7)
        XCTAssertNil(open.offsetBounds.upper, "a range without an end bounds nothing above")
        let earliest = try PartitionOffsetRanges(parsing: "0:earliest-50,1:10-20")
        XCTAssertNil(earliest.offsetBounds.lower, "earliest is not known without the topic")
        XCTAssertEqual(earliest.offsetBounds.upper, 50)
        XCTAssertNil(PartitionOffsetRanges.everything.offsetBounds.lower)
    }

    func testMalformedTextIsRefusedWithTheReason() {
        let cases: [(String, String)] = [
            ("100", "FIRST-LAST"), ("0:", "FIRST-LAST"), ("x:1-2", "partition"), ("-1:0-5", "partition"), ("1000000:0-1", "partition"),
            ("5-3", "empty"), ("beginning-", "earliest"), ("end-", "latest"), ("latest-9", "latest-"), ("earliest+5", "numeric FIRST"),
            ("3+0", "COUNT"), ("9223372036854775807+2", "COUNT"), ("1-x", "LAST"), ("", "empty range"), ("0-1,,2-3", "empty range"),
            ("99999999999999999999-", "not an offset"),
        ]
        for (text, reason) in cases {
            XCTAssertThrowsError(try PartitionOffsetRanges(parsing: text), text) { error in
                XCTAssertTrue("\(error)".contains(reason), "\(text): \(error)")
            }
        }
    }
}
