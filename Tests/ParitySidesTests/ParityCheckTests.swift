import K2Core
import Foundation
import Iceberg
import Kafka
import Parity
@testable import ParitySides
import SegmentLog
import TestSupport
import XCTest

/// The sides and `ParityCheck` in the test process: a Bronze table written with the Iceberg module, a
/// segment log, an embedded Kafka cluster.
final class ParityCheckTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try TestEnvironment.temporaryDirectory("parity-sides")
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// A capture log of the topic: `counts` offsets per partition, without `lost` ones.
    func writeLog(counts: [Int32: Int64], lost: [Int32: ClosedRange<Int64>] = [:], altered: [Int32: Int64] = [:]) throws -> String {
        let path = directory.appendingPathComponent("log").path
        let writer = try SegmentLogWriter(directory: path) { _ in }
        for (partition, count) in counts.sorted(by: { $0.key < $1.key }) {
            for offset in 0..<count where !(lost[partition]?.contains(offset) ?? false) {
                var payload = BronzeTableFixture.payload(partition: partition, offset: offset)
                if altered[partition] == offset { payload += [0xFF] }
                try writer.append(LogRecord(
                    receiveTimeNanos: 1_800_000_000_000_000_000 + offset, source: "kafka:\(BronzeTableFixture.topic)",
                    stream: String(partition), payload: payload,
                    kafka: KafkaCoordinates(partition: partition, offset: offset,
                                            timestampMs: BronzeTableFixture.timestampMicros(offset: offset) / 1000,
                                            timestampType: 1, key: nil)))
            }
        }
        try writer.close()
        return path
    }

    func partition(_ report: ParityReport, _ number: Int32) throws -> PartitionReport {
        try XCTUnwrap(report.partitions.first { $0.partition == number }, "partition \(number) missing from the report")
    }

    func testTableAgainstLogFindsTheLostRangeAndTheAlteredPayload() async throws {
        let table = try await BronzeTableFixture(directory: directory)
        try await table.append(partition: 0, offsets: Array(0..<300))
        try await table.append(partition: 1, offsets: Array(0..<100))
        try await table.append(partition: 1, offsets: Array(100..<200))
        let log = try writeLog(counts: [0: 300, 1: 200], lost: [1: 50...59], altered: [0: 7])

        let check = ParityCheck(configuration: ParityCheckConfiguration(
            left: .table(table.identifier), right: .log(directory: log), comparePayload: true), catalog: table.catalog)
        let report = try await check.run(cancellation: CancellationSignal(), diagnostics: { XCTFail("unexpected diagnostic: \($0)") })

        XCTAssertFalse(report.parity)
        XCTAssertEqual(report.sides.left.kind, "iceberg")
        XCTAssertEqual(report.sides.right.kind, "log")
        let p0 = try partition(report, 0), p1 = try partition(report, 1)
        XCTAssertEqual(p0.left.rows, 300)
        XCTAssertEqual(p0.missingInRight, [])
        XCTAssertEqual(p0.payloadMismatches, [OffsetRange(7, 7)])
        XCTAssertEqual(p1.left.rows, 200)
        XCTAssertEqual(p1.right.rows, 190)
        XCTAssertEqual(p1.missingInRight, [OffsetRange(50, 59)])
        XCTAssertEqual(p1.missingInLeft, [])
        let health = try XCTUnwrap(report.health.left)
        XCTAssertEqual(health.dataFiles, 3)
        XCTAssertEqual(health.rowsRead, 500)
        XCTAssertEqual(health.totalRecordsMatch, true)
        XCTAssertEqual(health.problems, [])
    }

    func testScopeLimitsTheTableSideToPartitionsAndTime() async throws {
        let table = try await BronzeTableFixture(directory: directory)
        try await table.append(partition: 0, offsets: Array(0..<100))
        try await table.append(partition: 1, offsets: Array(0..<100))
        let log = try writeLog(counts: [0: 100, 1: 40])
        // Offsets 10..<30 of partition 0 by time; partition 1 (short in the log) is outside the scope.
        let scope = ParityScope(sinceMicros: BronzeTableFixture.timestampMicros(offset: 10),
                                untilMicros: BronzeTableFixture.timestampMicros(offset: 30), partitions: [0])
        let report = try await ParityCheck(configuration: ParityCheckConfiguration(
            left: .table(table.identifier), right: .log(directory: log), scope: scope), catalog: table.catalog)
            .run(cancellation: CancellationSignal(), diagnostics: { _ in })
        XCTAssertTrue(report.parity)
        XCTAssertEqual(report.partitions.map(\.partition), [0])
        XCTAssertEqual(try partition(report, 0).left.rows, 20)
        XCTAssertEqual(try partition(report, 0).left.minOffset, 10)
        XCTAssertEqual(try partition(report, 0).left.maxOffset, 29)
    }

    func testInspectionFindsADataFileCommittedTwice() async throws {
        let table = try await BronzeTableFixture(directory: directory)
        let files = try await table.append(partition: 0, offsets: Array(0..<50))
        try await table.append(partition: 1, offsets: Array(0..<50))
        try await table.recommit(files)
        let loaded = try await table.catalog.loadTable(table.identifier)
        let snapshot = try XCTUnwrap(loaded.metadata.currentSnapshot)

        let found = try await TableInspection(table: loaded).files(of: snapshot)
        XCTAssertEqual(found.liveDataFiles, 2)
        XCTAssertEqual(found.liveDeleteFiles, 0)
        XCTAssertEqual(found.summaryTotalRecords, 150)
        XCTAssertEqual(found.addedMoreThanOnce.map(\.path), files.map(\.filePath))
        XCTAssertEqual(found.addedMoreThanOnce.first?.addedBySnapshots.count, 2)
        XCTAssertEqual(found.addedMoreThanOnce.first?.recordCount, 50)
        // A filter whose partition range excludes the file leaves it out of the repeats.
        let outside = try await TableInspection(table: loaded).files(of: snapshot, filters: [ColumnRange(column: "partition", lower: .int(1), upper: .int(1))])
        XCTAssertEqual(outside.addedMoreThanOnce, [])

        // In a check, the twice-committed rows are duplicates and a health problem.
        let log = try writeLog(counts: [0: 50, 1: 50])
        let report = try await ParityCheck(configuration: ParityCheckConfiguration(left: .table(table.identifier), right: .log(directory: log)),
                                           catalog: table.catalog).run(cancellation: CancellationSignal(), diagnostics: { _ in })
        XCTAssertFalse(report.parity)
        XCTAssertEqual(try partition(report, 0).duplicatesLeft.count, 1)
        let health = try XCTUnwrap(report.health.left)
        XCTAssertEqual(health.duplicateAddedFiles.map(\.path), files.map(\.filePath))
        XCTAssertEqual(health.totalRecordsMatch, true)
        XCTAssertTrue(health.problems.contains { $0.contains("added by 2 snapshots") }, "\(health.problems)")
    }

    func testKafkaSideAgainstLog() async throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        let topic = BronzeTableFixture.topic
        try cluster.createTopic(topic, partitions: 2, replicationFactor: 1)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        for partition in Int32(0)...1 {
            for offset in Int64(0)..<120 {
                try producer.produce(topic: topic, partition: partition, key: nil,
                                     value: BronzeTableFixture.payload(partition: partition, offset: offset),
                                     timestampMs: BronzeTableFixture.timestampMicros(offset: offset) / 1000)
            }
        }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))
        let log = try writeLog(counts: [0: 120, 1: 100])

        let report = try await ParityCheck(configuration: ParityCheckConfiguration(
            left: .kafka(bootstrap: cluster.bootstrap, topic: topic), right: .log(directory: log), comparePayload: true))
            .run(cancellation: CancellationSignal(), diagnostics: { _ in })
        XCTAssertEqual(report.sides.left.kind, "kafka")
        XCTAssertTrue(try partition(report, 0).parity)
        XCTAssertEqual(try partition(report, 0).payloadMismatches, [])
        XCTAssertEqual(try partition(report, 1).left.rows, 120)
        XCTAssertEqual(try partition(report, 1).missingInRight, [OffsetRange(100, 119)])
        XCTAssertFalse(report.parity)
    }

    func testCancellationStopsTheTableScanBetweenRowGroups() async throws {
        let table = try await BronzeTableFixture(directory: directory)
        for first in stride(from: Int64(0), to: 500, by: 100) { try await table.append(partition: 0, offsets: Array(first..<first + 100)) }
        let cancellation = CancellationSignal()
        let side = try IcebergParitySource(table: try await table.catalog.loadTable(table.identifier), snapshotId: nil,
                                           asOfMillis: nil, catalogName: "k2", cancellation: cancellation)
        var rowsSeen = 0
        do {
            try await side.scan(scope: .everything, partitions: nil, payload: false) { chunk in
                rowsSeen += chunk.count
                cancellation.cancel()
            }
            XCTFail("the scan went on after cancellation")
        } catch is CancellationError {}
        XCTAssertEqual(rowsSeen, 100, "one file's rows, then the stop")
        XCTAssertNil(side.health)

        // And the engine entry: a cancelled check throws instead of reporting.
        let log = try writeLog(counts: [0: 500])
        do {
            _ = try await ParityCheck(configuration: ParityCheckConfiguration(left: .log(directory: log), right: .log(directory: log)))
                .run(cancellation: cancellation, diagnostics: { _ in })
            XCTFail("a cancelled check returned a report")
        } catch is CancellationError {}
    }

    func testATableSideWithoutACatalogOrColumnIsAnError() async throws {
        let check = ParityCheck(configuration: ParityCheckConfiguration(
            left: .table(TableIdentifier(namespace: ["market_data"], name: "t")), right: .log(directory: "/nonexistent")))
        do {
            _ = try await check.run(cancellation: CancellationSignal(), diagnostics: { _ in })
            XCTFail("no error")
        } catch let error as ParityCheckError {
            XCTAssertTrue(error.description.contains("needs a catalog"), error.description)
        }
    }
}
