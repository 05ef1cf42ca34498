import K2Core
import XCTest
@testable import Parity

/// Builders of synthetic sides shared by the engine and HTML tests.
protocol SyntheticSides {}

extension SyntheticSides {

    func key(_ partition: Int32) -> PartitionKey { PartitionKey(topic: ParityEngineTests.topic, partition: partition) }

    /// One Kafka record per offset; one second apart, so 3600 offsets per hour.
    func rows(_ partition: Int32, _ offsets: ClosedRange<Int64>, except: [ClosedRange<Int64>] = [],
              changed: Set<Int64> = []) -> [RowsSource.Row] {
        offsets.compactMap { offset in
            if except.contains(where: { $0.contains(offset) }) { return nil }
            let timestamp = ParityEngineTests.base + offset * 1_000_000
            return RowsSource.Row(key: key(partition), offset: offset, timestampMicros: timestamp,
                                  ingestionDay: Int32(timestamp / 86_400_000_000),
                                  payloadHash: PayloadHash.hash(Array("p\(partition)o\(offset)\(changed.contains(offset) ? "X" : "")".utf8)))
        }
    }

    /// Cuts rows into "data files" of `size` and shuffles their order, like Iceberg files read in manifest order.
    func shuffledFiles(_ rows: [RowsSource.Row], size: Int, seed: UInt64) -> [RowsSource.Row] {
        var files = stride(from: 0, to: rows.count, by: size).map { Array(rows[$0..<min($0 + size, rows.count)]) }
        var generator = SplitMix(seed: seed)
        for index in stride(from: files.count - 1, to: 0, by: -1) {
            files.swapAt(index, Int(generator.next() % UInt64(index + 1)))
        }
        return files.flatMap { $0 }
    }

    func side(_ name: String, _ rows: [RowsSource.Row], floors: [PartitionKey: Int64] = [:]) -> RowsSource {
        RowsSource(SideDescription(kind: "rows", name: name), rows: rows, retentionFloors: floors, chunkSize: 256)
    }

    func makeDefectivePair() -> (RowsSource, RowsSource) {
        var left = rows(0, 0...9_999, except: [1_000...1_099, 5_000...5_009])
        left += rows(1, 0...4_999) + rows(1, 200...209)                        // offsets 200-209 twice
        left += rows(2, 100...2_099)
        left += rows(3, 0...999)                                               // partition 3: only on the left
        var right = rows(0, 0...9_999, except: [7_000...7_499]) + rows(0, 300...300) + rows(0, 300...300)
        right += rows(1, 50...4_999)                                           // head 0-49 missing
        right += rows(2, 100...2_099, changed: [150, 151, 1_500])              // changed payloads
        return (side("left", shuffledFiles(left, size: 700, seed: 1)), side("right", shuffledFiles(right, size: 900, seed: 2)))
    }

}

extension ParityEngineTests {
    static let topic = "market.crypto.trades.binance.raw"
    static let base: Int64 = 1_707_472_800_000_000  // 2024-02-09T10:00:00Z in µs
}

/// Synthetic sides with injected defects: the report must name exactly those defects and nothing else.
final class ParityEngineTests: XCTestCase, SyntheticSides {
    func testReportNamesExactlyTheInjectedDefects() async throws {
        let (left, right) = makeDefectivePair()
        let report = try await ParityEngine(options: ParityOptions(comparePayload: true, payloadWindowOffsets: 1_500))
            .run(left: left, right: right)

        XCTAssertFalse(report.parity)
        XCTAssertEqual(report.partitions.map(\.partition), [0, 1, 2, 3])
        XCTAssertEqual(report.partitions.map(\.parity), [false, false, false, false])
        let p = Dictionary(uniqueKeysWithValues: report.partitions.map { ($0.partition, $0) })

        XCTAssertEqual(p[0]!.missingInLeft, [OffsetRange(1_000, 1_099), OffsetRange(5_000, 5_009)])
        XCTAssertEqual(p[0]!.missingInRight, [OffsetRange(7_000, 7_499)])
        XCTAssertEqual(p[0]!.duplicatesLeft, [])
        XCTAssertEqual(p[0]!.duplicatesRight, [DuplicateRange(first: 300, last: 300, count: 3)])
        XCTAssertEqual(p[0]!.payloadMismatches, [])
        XCTAssertEqual(p[0]!.left.rows, 10_000 - 110)
        XCTAssertEqual(p[0]!.right.rows, 10_000 - 500 + 2)
        XCTAssertEqual(p[0]!.right.distinctOffsets, 9_500)
        XCTAssertEqual(p[0]!.left.minOffset, 0)
        XCTAssertEqual(p[0]!.left.maxOffset, 9_999)

        XCTAssertEqual(p[1]!.missingInLeft, [])
        XCTAssertEqual(p[1]!.missingInRight, [OffsetRange(0, 49)])
        XCTAssertEqual(p[1]!.duplicatesLeft, [DuplicateRange(first: 200, last: 209, count: 2)])
        XCTAssertEqual(p[1]!.duplicatesRight, [])
        XCTAssertEqual(p[1]!.payloadMismatches, [])
        XCTAssertEqual(p[1]!.right.minOffset, 50)

        XCTAssertEqual(p[2]!.missingInLeft, [])
        XCTAssertEqual(p[2]!.missingInRight, [])
        XCTAssertEqual(p[2]!.duplicatesLeft + p[2]!.duplicatesRight, [])
        XCTAssertEqual(p[2]!.payloadMismatches, [OffsetRange(150, 151), OffsetRange(1_500, 1_500)])

        XCTAssertEqual(p[3]!.missingInRight, [OffsetRange(0, 999)])
        XCTAssertEqual(p[3]!.missingInLeft, [])
        XCTAssertEqual(p[3]!.right.rows, 0)
        XCTAssertNil(p[3]!.right.minOffset)
        XCTAssertEqual(p[3]!.payloadMismatches, [])

        for partition in report.partitions { XCTAssertEqual(partition.retention, []) }
        XCTAssertEqual(report.summary.missingInLeftOffsets, 110)
        XCTAssertEqual(report.summary.missingInRightOffsets, 500 + 50 + 1_000)
        XCTAssertEqual(report.summary.duplicateRowsLeft, 10)
        XCTAssertEqual(report.summary.duplicateRowsRight, 2)
        XCTAssertEqual(report.summary.payloadMismatchOffsets, 3)
        XCTAssertEqual(report.summary.problems.count, 7, report.summary.problems.joined(separator: "\n"))
    }

    /// Gap edges from shuffled files (runs of offsets joined out of order): the offsets the lacking side holds
    /// next to each gap, with their timestamps; none where it holds nothing on that side of the gap.
    func testGapEdgesAreTheNeighboursTheLackingSideHolds() async throws {
        let (left, right) = makeDefectivePair()
        let report = try await ParityEngine().run(left: left, right: right)
        let p = Dictionary(uniqueKeysWithValues: report.partitions.map { ($0.partition, $0) })
        func time(_ offset: Int64) -> String { RFC3339.format(epochNanoseconds: (Self.base + offset * 1_000_000) * 1000) }
        XCTAssertEqual(p[0]!.gapEdges, [
            GapEdges(side: "left", first: 1_000, last: 1_099, beforeOffset: 999, beforeTimestamp: time(999), afterOffset: 1_100, afterTimestamp: time(1_100)),
            GapEdges(side: "left", first: 5_000, last: 5_009, beforeOffset: 4_999, beforeTimestamp: time(4_999), afterOffset: 5_010, afterTimestamp: time(5_010)),
            GapEdges(side: "right", first: 7_000, last: 7_499, beforeOffset: 6_999, beforeTimestamp: time(6_999), afterOffset: 7_500, afterTimestamp: time(7_500)),
        ])
        XCTAssertEqual(p[1]!.gapEdges, [GapEdges(side: "right", first: 0, last: 49, beforeOffset: nil, beforeTimestamp: nil,
                                                 afterOffset: 50, afterTimestamp: time(50))])
        XCTAssertEqual(p[3]!.gapEdges, [GapEdges(side: "right", first: 0, last: 999, beforeOffset: nil, beforeTimestamp: nil,
                                                 afterOffset: nil, afterTimestamp: nil)])
    }

    func testCleanPairIsParity() async throws {
        let all = rows(0, 0...4_999) + rows(1, 10...3_009)
        let report = try await ParityEngine(options: ParityOptions(comparePayload: true))
            .run(left: side("left", shuffledFiles(all, size: 333, seed: 3)), right: side("right", shuffledFiles(all, size: 1_000, seed: 4)))
        XCTAssertTrue(report.parity)
        XCTAssertEqual(report.summary.problems, [])
        XCTAssertEqual(report.summary.rows.left, 8_000)
        XCTAssertEqual(report.summary.rows.right, 8_000)
        XCTAssertTrue(report.partitions.allSatisfy { $0.parity && $0.payloadMismatches == [] })
        // 5000 s from 10:00 → hours 10 and 11 for partition 0.
        XCTAssertEqual(report.partitions[0].rowsByHour.map(\.hour), ["2024-02-09T10:00Z", "2024-02-09T11:00Z"])
        XCTAssertEqual(report.partitions[0].rowsByHour.map(\.left), [3_600, 1_400])
        XCTAssertEqual(report.countsByIngestionDate.left, ["2024-02-09": 8_000])
        XCTAssertEqual(report.countsByHour.right?["2024-02-09T10:00Z"], 3_600 + 3_000)
    }

    func testRetentionFloorOfTheTruthIsNotMissing() async throws {
        let left = rows(0, 0...9_999, except: [1_000...1_099])
        let right = rows(0, 0...9_999)
        // Kafka has dropped offsets below 500 already, and its earliest record still held is 500.
        let truth = rows(0, 500...9_999)
        let report = try await ParityEngine().run(
            left: side("left", left), right: side("right", right),
            truth: side("truth", truth, floors: [key(0): 500]))
        let p = report.partitions[0]
        XCTAssertEqual(p.missingInLeft, [OffsetRange(1_000, 1_099)])
        XCTAssertEqual(p.missingInRight, [])
        XCTAssertEqual(p.missingInLeftVsTruth, [OffsetRange(1_000, 1_099)])
        XCTAssertEqual(p.missingInRightVsTruth, [])
        XCTAssertEqual(p.missingInTruth, [])
        XCTAssertEqual(p.retention, [RetentionNote(side: "truth", floor: 500, droppedOffsets: [OffsetRange(0, 499)],
            note: "offsets below 500 are no longer held by truth (retention), not counted as missing")])
        XCTAssertEqual(p.truth?.retentionFloor, 500)
        XCTAssertEqual(report.summary.retentionDroppedOffsets, 500)
        XCTAssertEqual(report.summary.problems.count, 2)  // missing in left, vs right and vs truth
    }

    func testATruthSideCountsEachMissingOffsetOnce() async throws {
        // A gap of 130 offsets in the right table on three partitions: missing against the left and against
        // the truth alike, and counted once in the summary, the text columns and the HTML table.
        var left: [RowsSource.Row] = [], right: [RowsSource.Row] = [], truth: [RowsSource.Row] = []
        for partition in Int32(0)...2 {
            left += rows(partition, 0...999)
            right += rows(partition, 0...999, except: [400...529])
            truth += rows(partition, 100...999)
        }
        let floors = Dictionary(uniqueKeysWithValues: (Int32(0)...2).map { (key($0), Int64(100)) })
        let report = try await ParityEngine().run(left: side("left", left), right: side("right", right),
                                                  truth: side("truth", truth, floors: floors))
        XCTAssertEqual(report.partitions.map { $0.missingInRight }, Array(repeating: [OffsetRange(400, 529)], count: 3))
        XCTAssertEqual(report.partitions.map { $0.missingInRightVsTruth }, Array(repeating: [OffsetRange(400, 529)], count: 3))
        XCTAssertEqual(report.summary.missingInRightOffsets, 3 * 130)
        XCTAssertEqual(report.summary.missingInLeftOffsets, 0)
        XCTAssertEqual(report.summary.retentionDroppedOffsets, 3 * 100)
        let line = try XCTUnwrap(ParityTextRenderer.render(report).split(separator: "\n").first { $0.hasPrefix("MISMATCH  \(Self.topic)[0]") })
        let columns = line.split(separator: " ", omittingEmptySubsequences: true)
        // STATUS PARTITION LEFT-ROWS RIGHT-ROWS TRUTH-ROWS LEFT-OFFSETS RIGHT-OFFSETS MISS-L MISS-R ...
        XCTAssertEqual(columns[7], "0", String(line))
        XCTAssertEqual(columns[8], "130", String(line))
        let html = ParityHTMLRenderer.render(report)
        XCTAssertTrue(html.contains("<td>130</td>"), "the HTML table counts the gap once")
        XCTAssertFalse(html.contains("<td>260</td>"))

        // Two Kafka-like sides with the same retention floor: the dropped offsets count once too.
        let both = try await ParityEngine().run(left: side("table", rows(0, 0...999)),
                                                right: side("kafka", rows(0, 600...999), floors: [key(0): 600]),
                                                truth: side("truth", rows(0, 600...999), floors: [key(0): 600]))
        XCTAssertEqual(both.summary.retentionDroppedOffsets, 600)
    }

    func testJSONCarriesAbsentValuesAsNull() async throws {
        let (left, right) = makeDefectivePair()
        let scope = ParityScope(sinceMicros: nil, untilMicros: nil, partitions: [0, 1])
        let report = try await ParityEngine(options: ParityOptions(scope: scope)).run(left: left, right: right)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
        let scopeObject = try XCTUnwrap(object["scope"] as? [String: Any])
        XCTAssertTrue(scopeObject["since"] is NSNull, "\(scopeObject)")
        XCTAssertTrue(scopeObject["until"] is NSNull)
        XCTAssertEqual(scopeObject["partitions"] as? [Int], [0, 1])
        XCTAssertTrue((object["sides"] as? [String: Any])?["truth"] is NSNull)
        let partition = try XCTUnwrap((object["partitions"] as? [[String: Any]])?.first)
        for key in ["truth", "missing_in_left_vs_truth", "missing_in_right_vs_truth", "missing_in_truth", "duplicates_truth",
                    "payload_mismatches", "payload_mismatches_left_vs_truth", "payload_mismatches_right_vs_truth"] {
            XCTAssertTrue(partition[key] is NSNull, "\(key): \(String(describing: partition[key]))")
        }
        XCTAssertTrue((partition["left"] as? [String: Any])?["retention_floor"] is NSNull)
        let decoded = try JSONDecoder().decode(ParityReport.self, from: report.jsonData())
        XCTAssertNil(decoded.scope.since)
        XCTAssertEqual(decoded.scope.partitions, [0, 1])
    }

    func testKafkaSideWithRetentionAgainstATable() async throws {
        // A table holding 0-999 against a topic that keeps only 600 onwards: parity, with a retention note.
        let report = try await ParityEngine().run(
            left: side("table", rows(0, 0...999)), right: side("kafka", rows(0, 600...999), floors: [key(0): 600]))
        XCTAssertTrue(report.parity, report.summary.problems.joined(separator: "\n"))
        XCTAssertEqual(report.partitions[0].retention.map(\.droppedOffsets), [[OffsetRange(0, 599)]])
        XCTAssertEqual(report.partitions[0].retention.map(\.side), ["right"])
    }

    func testPayloadMismatchAgainstTruth() async throws {
        let truth = rows(0, 0...2_999)
        let report = try await ParityEngine(options: ParityOptions(comparePayload: true, payloadWindowOffsets: 700)).run(
            left: side("left", rows(0, 0...2_999, changed: [2_000])), right: side("right", rows(0, 0...2_999)),
            truth: side("truth", truth))
        let p = report.partitions[0]
        XCTAssertEqual(p.payloadMismatches, [OffsetRange(2_000, 2_000)])
        XCTAssertEqual(p.payloadMismatchesLeftVsTruth, [OffsetRange(2_000, 2_000)])
        XCTAssertEqual(p.payloadMismatchesRightVsTruth, [])
        XCTAssertFalse(report.parity)
    }

    func testScopeLimitsTimeAndPartitions() async throws {
        let (left, right) = makeDefectivePair()
        // 10:00:00 + 6000 s = 11:40:00 → offsets 6000...7999 of each partition, only partitions 0 and 2.
        let scope = ParityScope(sinceMicros: ParityEngineTests.base + 6_000_000_000, untilMicros: ParityEngineTests.base + 8_000_000_000, partitions: [0, 2])
        let report = try await ParityEngine(options: ParityOptions(scope: scope, comparePayload: true)).run(left: left, right: right)
        XCTAssertEqual(report.partitions.map(\.partition), [0])   // partition 2 ends at offset 2099
        XCTAssertEqual(report.partitions[0].missingInRight, [OffsetRange(7_000, 7_499)])
        XCTAssertEqual(report.partitions[0].missingInLeft, [])
        XCTAssertEqual(report.partitions[0].left.rows, 2_000)
        XCTAssertEqual(report.scope.partitions, [0, 2])
        XCTAssertEqual(report.scope.since, "2024-02-09T11:40:00.000Z")
    }

    func testTextReportListsMismatchesFirstAndSummary() async throws {
        let (left, right) = makeDefectivePair()
        let report = try await ParityEngine(options: ParityOptions(comparePayload: true)).run(left: left, right: right)
        let text = ParityTextRenderer.render(report)
        let lines = text.split(separator: "\n").map(String.init)
        let header = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("STATUS") })
        XCTAssertTrue(lines[header + 1].hasPrefix("MISMATCH  \(Self.topic)[0]"), lines[header + 1])
        XCTAssertTrue(text.contains("missing in left: [1000, 1099] [5000, 5009]"), text)
        XCTAssertTrue(text.contains("gap in left [1000, 1099]: after 999 at 2024-02-09T10:16:39.000Z, until 1100 at 2024-02-09T10:18:20.000Z"), text)
        XCTAssertTrue(text.contains("gap in right [0, 49]: from its start, until 50 at 2024-02-09T10:00:50.000Z"), text)
        XCTAssertTrue(text.contains("duplicates right: [300, 300]x3"), text)
        XCTAssertTrue(text.contains("payload differs: [150, 151] [1500, 1500]"), text)
        XCTAssertTrue(lines.last!.hasPrefix("MISMATCH: 4 partition(s), 4 mismatched"), lines.last!)
    }

    func testJSONUsesDocumentedKeys() async throws {
        let (left, right) = makeDefectivePair()
        let report = try await ParityEngine().run(left: left, right: right)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: report.jsonData()) as? [String: Any])
        XCTAssertEqual(object["parity"] as? Bool, false)
        let partitions = try XCTUnwrap(object["partitions"] as? [[String: Any]])
        let first = partitions[0]
        for key in ["missing_in_left", "missing_in_right", "duplicates_left", "duplicates_right", "left", "right", "rows_by_hour", "retention"] {
            XCTAssertNotNil(first[key], key)
        }
        XCTAssertEqual(first["missing_in_left"] as? [[Int]], [[1_000, 1_099], [5_000, 5_009]])
        XCTAssertEqual((first["right"] as? [String: Any])?["distinct_offsets"] as? Int, 9_500)
        // Round trip through the Codable model.
        let decoded = try JSONDecoder().decode(ParityReport.self, from: report.jsonData())
        XCTAssertEqual(decoded.partitions[0].missingInRight, [OffsetRange(7_000, 7_499)])
    }
}
