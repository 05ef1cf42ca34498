import K2Core
import XCTest
@testable import Parity

final class OffsetCoverageTests: XCTestCase {
    /// Random runs in random order against a plain offset → count map.
    func testMatchesBruteForceModelOnRandomRuns() {
        var generator = SplitMix(seed: 42)
        for round in 0..<200 {
            var coverage = OffsetCoverage()
            var model: [Int64: Int] = [:]
            for _ in 0..<(1 + Int(generator.next() % 30)) {
                let first = Int64(generator.next() % 200)
                let last = first + Int64(generator.next() % 25)
                coverage.add(first, last)
                for offset in first...last { model[offset, default: 0] += 1 }
                XCTAssertTrue(isCanonical(coverage), "round \(round): segments not canonical")
            }
            let expectedDistinct = ranges(Set(model.keys))
            XCTAssertEqual(coverage.distinctRanges, expectedDistinct, "round \(round)")
            XCTAssertEqual(coverage.distinctCount, Int64(model.count))
            XCTAssertEqual(coverage.rowCount, Int64(model.values.reduce(0, +)))
            // Every duplicate range carries the exact count of each of its offsets, and covers all of them.
            var fromDuplicates: [Int64: Int] = [:]
            for duplicate in coverage.duplicates {
                for offset in duplicate.first...duplicate.last { fromDuplicates[offset] = duplicate.count }
            }
            XCTAssertEqual(fromDuplicates, model.filter { $0.value > 1 }, "round \(round)")
        }
    }

    func testContiguousAppendsStayOneSegment() {
        var coverage = OffsetCoverage()
        var offset: Int64 = 1_000
        for _ in 0..<10_000 {
            coverage.add(offset, offset + 99)
            offset += 100
        }
        XCTAssertEqual(coverage.segmentCount, 1)
        XCTAssertEqual(coverage.distinctRanges, [OffsetRange(1_000, 1_000_999)])
        XCTAssertTrue(coverage.duplicates.isEmpty)
    }

    func testRangeSetOperations() {
        let a = [OffsetRange(0, 9), OffsetRange(20, 29), OffsetRange(40, 49)]
        let b = [OffsetRange(5, 24), OffsetRange(45, 45)]
        XCTAssertEqual(OffsetRanges.subtracting(a, b), [OffsetRange(0, 4), OffsetRange(25, 29), OffsetRange(40, 44), OffsetRange(46, 49)])
        XCTAssertEqual(OffsetRanges.subtracting(b, a), [OffsetRange(10, 19)])
        XCTAssertEqual(OffsetRanges.intersecting(a, b), [OffsetRange(5, 9), OffsetRange(20, 24), OffsetRange(45, 45)])
        let split = OffsetRanges.split(a, below: 25)
        XCTAssertEqual(split.below, [OffsetRange(0, 9), OffsetRange(20, 24)])
        XCTAssertEqual(split.atOrAbove, [OffsetRange(25, 29), OffsetRange(40, 49)])
    }

    private func isCanonical(_ coverage: OffsetCoverage) -> Bool {
        for k in coverage.firsts.indices {
            if coverage.firsts[k] > coverage.lasts[k] || coverage.copies[k] == 0 { return false }
            if k > 0 {
                if coverage.firsts[k] <= coverage.lasts[k - 1] { return false }
                if coverage.firsts[k] == coverage.lasts[k - 1] + 1 && coverage.copies[k] == coverage.copies[k - 1] { return false }
            }
        }
        return true
    }

    private func ranges(_ offsets: Set<Int64>) -> [OffsetRange] {
        var result: [OffsetRange] = []
        for offset in offsets.sorted() {
            if let last = result.last, last.last + 1 == offset { result[result.count - 1].last = offset }
            else { result.append(OffsetRange(offset, offset)) }
        }
        return result
    }
}

/// A small deterministic generator, so failures reproduce.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
