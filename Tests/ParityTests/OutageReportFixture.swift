import Foundation
@testable import Parity

/// A day of Binance trades on four partitions as a person would meet it: the Spark table lost six hours
/// (06:00-12:00) on partitions 1 and 2, the Flink table holds a file twice on partition 0 (and its health
/// check says so), Kafka (the truth) has dropped partition 3's first offsets by retention, and two payloads
/// differ. One record per partition every 10 s, offset o at 00:00:00 + 10·o s.
struct OutageReportFixture {
    static let topic = "market.crypto.trades.binance.raw"
    static let day: Int64 = 1_707_436_800_000_000   // 2024-02-09T00:00:00Z in µs
    static let offsetsPerDay: Int64 = 8_640
    /// Offsets of 06:00:00 through 11:59:50.
    static let outage: ClosedRange<Int64> = 2_160...4_319
    static let duplicatedFile: ClosedRange<Int64> = 6_000...6_359
    static let retentionFloor: Int64 = 500
    static let changedPayloads: Set<Int64> = [7_001, 7_002]

    static func key(_ partition: Int32) -> PartitionKey { PartitionKey(topic: topic, partition: partition) }

    static func timestampMicros(_ offset: Int64) -> Int64 { day + offset * 10_000_000 }

    static func rows(_ partition: Int32, _ offsets: ClosedRange<Int64>, except: ClosedRange<Int64>? = nil,
                     changed: Set<Int64> = []) -> [RowsSource.Row] {
        offsets.compactMap { offset in
            if let except, except.contains(offset) { return nil }
            let timestamp = timestampMicros(offset)
            return RowsSource.Row(key: key(partition), offset: offset, timestampMicros: timestamp,
                                  ingestionDay: Int32(timestamp / 86_400_000_000),
                                  payloadHash: PayloadHash.hash(Array("p\(partition)o\(offset)\(changed.contains(offset) ? "X" : "")".utf8)))
        }
    }

    static func report() async throws -> ParityReport {
        let all = 0...(offsetsPerDay - 1)
        var left: [RowsSource.Row] = [], right: [RowsSource.Row] = [], truth: [RowsSource.Row] = []
        for partition: Int32 in 0...3 {
            left += rows(partition, all, except: partition == 1 || partition == 2 ? outage : nil)
            right += rows(partition, all, changed: partition == 3 ? changedPayloads : [])
            if partition == 0 { right += rows(0, duplicatedFile) }
            truth += rows(partition, partition == 3 ? retentionFloor...(offsetsPerDay - 1) : all)
        }
        let leftSide = RowsSource(SideDescription(kind: "iceberg", name: "market_data.bronze_binance_trades", snapshotId: 4_012), rows: left, chunkSize: 4_096)
        leftSide.health = TableHealth(
            table: "market_data.bronze_binance_trades", snapshotId: 4_012, snapshots: 96, dataFiles: 96,
            duplicateAddedFiles: [], summaryTotalRecords: Int64(left.count), rowsRead: Int64(left.count), totalRecordsMatch: true, rowsDeleted: 0,
            commitMarkers: [CommitMarker(key: "spark.sql.streaming.epochId", value: "95", snapshotId: 4_012)], problems: [])
        let rightSide = RowsSource(SideDescription(kind: "iceberg", name: "market_data.bronze_binance_trades_flink", snapshotId: 7_703), rows: right, chunkSize: 4_096)
        let file = "file:/var/k2/wh/market_data/bronze_binance_trades_flink/data/ingestion_date=2024-02-09/00017-flink.parquet"
        rightSide.health = TableHealth(
            table: "market_data.bronze_binance_trades_flink", snapshotId: 7_703, snapshots: 48, dataFiles: 49,
            duplicateAddedFiles: [DuplicateAddedFile(path: file, snapshotIds: [7_702, 7_703], records: Int64(duplicatedFile.count))],
            summaryTotalRecords: Int64(right.count), rowsRead: Int64(right.count), totalRecordsMatch: true, rowsDeleted: 0,
            commitMarkers: [CommitMarker(key: "flink.max-committed-checkpoint-id", value: "1441", snapshotId: 7_703)],
            problems: ["data file \(file) added by 2 snapshots (7702, 7703)"])
        let truthSide = RowsSource(SideDescription(kind: "kafka", name: "kafka://127.0.0.1:9092/\(topic)"), rows: truth,
                                   retentionFloors: [key(3): retentionFloor], chunkSize: 4_096)
        return try await ParityEngine(options: ParityOptions(comparePayload: true))
            .run(left: leftSide, right: rightSide, truth: truthSide)
    }
}
