import Foundation
import Iceberg
import TestSupport
import XCTest

/// The Bronze table shapes of docs/k2-platform.md §3 and a Parquet fixture writer (pyarrow, independent of us).
enum BronzeFixtures {
    static let baseMicros: Int64 = 1_764_028_800_000_000  // 2025-11-25T00:00:00Z
    static let baseDay: Int32 = 20417                       // 2025-11-25

    static func sparkSchema() -> Schema {
        Schema(fields: [
            NestedField(id: 1, name: "raw_bytes", type: .binary),
            NestedField(id: 2, name: "topic", type: .string),
            NestedField(id: 3, name: "partition", type: .int),
            NestedField(id: 4, name: "offset", type: .long),
            NestedField(id: 5, name: "kafka_timestamp", type: .timestamptz),
            NestedField(id: 6, name: "ingestion_timestamp", type: .timestamptz),
            NestedField(id: 7, name: "ingestion_date", type: .date),
        ])
    }

    static let sparkSpec = PartitionSpec(fields: [PartitionField(sourceId: 7, fieldId: 1000, name: "ingestion_date_day", transform: .day)])
    static let sparkProperties = [
        "write.format.default": "parquet", "write.parquet.compression-codec": "zstd",
        "write.target-file-size-bytes": "134217728",
    ]

    /// The value formulas shared with the Python side: row with Kafka `offset` in `partition`.
    static let pythonRows = """
        import pyarrow as pa, pyarrow.parquet as pq, datetime
        BASE_US = 1764028800000000
        BASE_DAY = datetime.date(2025, 11, 25)
        def raw(p, o):
            return bytes([0, 0, 0, 0, 1]) + f"trade-{p}-{o}".encode() + bytes([(o * 7 + p) & 0xFF]) * (o % 5)
        def arrow_schema(ids=True):
            def f(name, t, i):
                return pa.field(name, t, nullable=True, metadata={"PARQUET:field_id": str(i)} if ids else None)
            return pa.schema([f("raw_bytes", pa.binary(), 1), f("topic", pa.string(), 2), f("partition", pa.int32(), 3),
                              f("offset", pa.int64(), 4), f("kafka_timestamp", pa.timestamp("us", tz="UTC"), 5),
                              f("ingestion_timestamp", pa.timestamp("us", tz="UTC"), 6), f("ingestion_date", pa.date32(), 7)])
        def rows(p, first, count, day):
            offs = list(range(first, first + count))
            d = BASE_DAY + datetime.timedelta(days=day)
            return {
                "raw_bytes": [raw(p, o) for o in offs], "topic": ["binance.trades"] * count, "partition": [p] * count,
                "offset": offs, "kafka_timestamp": [BASE_US + o * 1000 for o in offs],
                "ingestion_timestamp": [BASE_US + day * 86400000000 + o for o in offs], "ingestion_date": [d] * count,
            }
        def table(p, first, count, day, schema=None):
            s = schema or arrow_schema()
            cols = rows(p, first, count, day)
            cols["kafka_timestamp"] = pa.array(cols["kafka_timestamp"], pa.timestamp("us", tz="UTC"))
            cols["ingestion_timestamp"] = pa.array(cols["ingestion_timestamp"], pa.timestamp("us", tz="UTC"))
            return pa.Table.from_pydict(cols, schema=s)
        """

    struct FileSpec { let partition: Int32; let first: Int64; let count: Int64; let day: Int32 }

    /// Writes each file with pyarrow (zstd, field ids) and returns DataFile entries with bounds we compute.
    static func writeParquetFiles(_ specs: [FileSpec], directory: URL) throws -> [DataFile] {
        var out: [DataFile] = []
        for (k, s) in specs.enumerated() {
            let path = directory.appendingPathComponent("data/ingestion_date_day=\(s.day)/part-\(k).parquet").path
            let result = try ProcessRunner.python(pythonRows + """

                import sys, os
                os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
                pq.write_table(table(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])), sys.argv[1], compression="zstd")
                print(os.path.getsize(sys.argv[1]))
                """, [path, String(s.partition), String(s.first), String(s.count), String(s.day)])
            XCTAssertEqual(result.status, 0, result.stderrText)
            let size = Int64(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
            let last = s.first + s.count - 1
            out.append(DataFile(
                filePath: "file://" + path, fileFormat: "PARQUET", specId: 0, partition: [.date(baseDay + s.day)],
                recordCount: s.count, fileSizeInBytes: size,
                valueCounts: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, s.count) }),
                nullValueCounts: Dictionary(uniqueKeysWithValues: (1...7).map { ($0, Int64(0)) }),
                lowerBounds: [3: IcebergValue.int(s.partition).singleValueBytes(), 4: IcebergValue.long(s.first).singleValueBytes(),
                              7: IcebergValue.date(baseDay + s.day).singleValueBytes()],
                upperBounds: [3: IcebergValue.int(s.partition).singleValueBytes(), 4: IcebergValue.long(last).singleValueBytes(),
                              7: IcebergValue.date(baseDay + s.day).singleValueBytes()]))
        }
        return out
    }

    /// Runs a pyiceberg script with `cat` bound to the SqlCatalog on `database` and prints its last line.
    static func pyiceberg(_ body: String, database: String, warehouse: String, args: [String] = []) throws -> String {
        let script = pythonRows + """

            import sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            cat = SqlCatalog("k2", uri="sqlite:///" + sys.argv[1], warehouse=sys.argv[2])
            """ + "\n" + body
        let result = try ProcessRunner.python(script, [database, warehouse] + args)
        guard result.status == 0 else {
            XCTFail("pyiceberg failed: \(result.stderrText)")
            return ""
        }
        return result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
    }
}
