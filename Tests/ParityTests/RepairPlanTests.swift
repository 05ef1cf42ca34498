import K2Core
import Foundation
@testable import Parity
import XCTest

/// A repair plan names, per partition, exactly the offsets the report says one table lacks or holds twice.
final class RepairPlanTests: XCTestCase, SyntheticSides {
    func testPlanPerSideFromTheReportsMissingAndDuplicateRanges() async throws {
        let (leftSide, rightSide) = makeDefectivePair()
        var report = try await ParityEngine(options: ParityOptions()).run(left: leftSide, right: rightSide)
        XCTAssertThrowsError(try RepairPlan(report: report, side: .right)) { error in
            XCTAssertEqual(error as? RepairPlan.PlanError, .notATable(side: .right, kind: "rows", name: "right"))
        }
        report.sides.left = SideDescription(kind: "iceberg", name: "market_data.bronze_spark", snapshotId: 11)
        report.sides.right = SideDescription(kind: "iceberg", name: "market_data.bronze_flink", snapshotId: 22)
        // Through the JSON a script would keep (decoded as the repair reads it).
        let decoded = try JSONDecoder().decode(ParityReport.self, from: report.jsonData())

        let right = try RepairPlan(report: decoded, side: .right)
        XCTAssertEqual(right.table, "market_data.bronze_flink")
        XCTAssertEqual(right.snapshotId, 22)
        XCTAssertEqual(right.partitions.map(\.partition), [0, 1, 3])
        XCTAssertEqual(right.partitions[0].missing, [OffsetRange(7_000, 7_499)])
        XCTAssertEqual(right.partitions[0].duplicates, [DuplicateRange(first: 300, last: 300, count: 3)])
        XCTAssertEqual(right.partitions[0].extraRows, 2)
        XCTAssertEqual(right.partitions[1].missing, [OffsetRange(0, 49)])
        XCTAssertEqual(right.partitions[2].missing, [OffsetRange(0, 999)])
        XCTAssertEqual(right.missingCount, 500 + 50 + 1_000)
        XCTAssertEqual(right.extraRows, 2)

        let left = try RepairPlan(report: decoded, side: .left)
        XCTAssertEqual(left.partitions.map(\.partition), [0, 1])
        XCTAssertEqual(left.partitions[0].missing, [OffsetRange(1_000, 1_099), OffsetRange(5_000, 5_009)])
        XCTAssertEqual(left.partitions[1].duplicates, [DuplicateRange(first: 200, last: 209, count: 2)])
        XCTAssertEqual(left.extraRows, 10)

        // Both tables need work: the side must be named.
        XCTAssertThrowsError(try RepairPlan(report: decoded, side: nil))
    }

    func testCleanReportPlansNothing() async throws {
        let rows = self.rows(0, 0...99)
        var report = try await ParityEngine(options: ParityOptions()).run(left: side("l", rows), right: side("r", rows))
        report.sides.right = SideDescription(kind: "iceberg", name: "market_data.t")
        let plan = try RepairPlan(report: report, side: nil)
        XCTAssertTrue(plan.isEmpty)
        XCTAssertEqual(plan.table, "market_data.t")
    }
}
