import Avro
import Foundation
@testable import Iceberg
import Parquet
import TestSupport
import XCTest

/// Our partition transforms agree with pyiceberg's (pyiceberg-core): for a table pyiceberg partitioned by
/// bucket, truncate, hour, month and year, every row's transformed values equal its file's partition tuple.
final class TransformInteropTests: XCTestCase {
    func testEveryRowMapsToItsFilesPartition() async throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing")
        let directory = try TestEnvironment.temporaryDirectory("iceberg")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("catalog.db").path
        let warehouse = "file://" + directory.appendingPathComponent("warehouse").path
        _ = try BronzeFixtures.pyiceberg("""
            from pyiceberg.partitioning import PartitionSpec, PartitionField
            from pyiceberg.transforms import BucketTransform, TruncateTransform, HourTransform, MonthTransform, YearTransform
            cat.create_namespace("t")
            from pyiceberg.schema import Schema
            from pyiceberg.types import NestedField, BinaryType, StringType, IntegerType, LongType, TimestamptzType, DateType
            s = Schema(*[NestedField(i + 1, n, t, required=False) for i, (n, t) in enumerate([
                ("raw_bytes", BinaryType()), ("topic", StringType()), ("partition", IntegerType()), ("offset", LongType()),
                ("kafka_timestamp", TimestamptzType()), ("ingestion_timestamp", TimestamptzType()), ("ingestion_date", DateType())])])
            spec = PartitionSpec(PartitionField(4, 1000, BucketTransform(8), "offset_bucket"),
                                 PartitionField(2, 1001, TruncateTransform(9), "topic_trunc"),
                                 PartitionField(5, 1002, HourTransform(), "kafka_timestamp_hour"),
                                 PartitionField(7, 1003, MonthTransform(), "ingestion_date_month"),
                                 PartitionField(6, 1004, YearTransform(), "ingestion_timestamp_year"),
                                 PartitionField(3, 1005, BucketTransform(3), "partition_bucket"))
            t = cat.create_table("t.transforms", s, partition_spec=spec)
            a = t.schema().as_arrow()
            t.append(pa.concat_tables([table(0, 0, 3000, 0, a), table(5, 100000, 500, 40, a), table(2, -50, 50, -400, a)]))
            print("ok")
            """, database: database, warehouse: warehouse)
        let catalog = try await SQLCatalog.openSQLite(path: database, name: nil, warehouse: warehouse)
        let table = try await catalog.loadTable(TableIdentifier(namespace: ["t"], name: "transforms"))
        let spec = table.metadata.defaultSpec
        XCTAssertEqual(spec.fields.map(\.transform), [.bucket(8), .truncate(9), .hour, .month, .year, .bucket(3)])
        let tasks = try await TableScan(table: table).planFiles()
        XCTAssertGreaterThan(tasks.count, 8)
        let reader = try ScanReader(table: table)
        var rows = 0
        for task in tasks {
            let cols = try await reader.read(task, columns: ["offset", "topic", "kafka_timestamp", "ingestion_date", "ingestion_timestamp", "partition"])
            guard case .int64(let offsets) = cols[0].values, case .byteArray(let topics) = cols[1].values,
                  case .int64(let kts) = cols[2].values, case .int32(let days) = cols[3].values,
                  case .int64(let its) = cols[4].values, case .int32(let parts) = cols[5].values else {
                return XCTFail("unexpected column types")
            }
            for i in 0..<offsets.count {
                let row: [Int: IcebergValue] = [4: .long(offsets[i]), 2: .string(topics.string(at: i)), 5: .timestamptz(kts[i]),
                                                7: .date(days[i]), 6: .timestamptz(its[i]), 3: .int(parts[i])]
                let ours = try spec.partition(of: row)
                if ours != task.dataFile.partition {
                    return XCTFail("row \(i) of \(task.dataFile.filePath): ours \(ours), pyiceberg's \(task.dataFile.partition)")
                }
                rows += 1
            }
        }
        XCTAssertEqual(rows, 3550)
    }
}
