import Codecs
import Foundation
@testable import Parquet
import TestSupport
import XCTest

/// Files written by other implementations (pyarrow / Arrow C++, Spark / parquet-mr): our reader must
/// return exactly what pyarrow returns for them.
final class ForeignFileTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = try TestEnvironment.temporaryDirectory("parquet-foreign")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Writes a 3,000-row table of every common type (with nulls) with `pq.write_table(**options)`.
    static let pyarrowWrite = #"""
import sys, json, decimal, datetime, random
import pyarrow as pa, pyarrow.parquet as pq
path, opts = sys.argv[1], json.loads(sys.argv[2])
rnd = random.Random(5)
n = 3000
def maybe(i, k, v): return None if i % k == 1 else v
day0 = datetime.date(2024, 1, 1)
cols = {
  "b": pa.array([maybe(i, 7, i % 3 == 0) for i in range(n)], pa.bool_()),
  "i32": pa.array([rnd.randint(-2**31, 2**31 - 1) for i in range(n)], pa.int32()),
  "i32s": pa.array([maybe(i, 5, i // 10) for i in range(n)], pa.int32()),
  "i64": pa.array([maybe(i, 4, rnd.randint(-2**63, 2**63 - 1)) for i in range(n)], pa.int64()),
  "i64s": pa.array([1_000_000_000 + i * 3 for i in range(n)], pa.int64()),
  "f": pa.array([maybe(i, 6, rnd.uniform(-1e6, 1e6)) for i in range(n)], pa.float32()),
  "d": pa.array([rnd.uniform(-1e12, 1e12) for i in range(n)], pa.float64()),
  "bin": pa.array([maybe(i, 3, rnd.randbytes(rnd.randint(0, 40))) for i in range(n)], pa.binary()),
  "s": pa.array([maybe(i, 8, "market.raw.%d.é" % (i % 17)) for i in range(n)], pa.string()),
  "dt": pa.array([maybe(i, 9, day0 + datetime.timedelta(days=i % 500)) for i in range(n)], pa.date32()),
  "tsu": pa.array([maybe(i, 11, 1_700_000_000_000_000 + i * 1_000_003) for i in range(n)], pa.timestamp("us", tz="UTC")),
  "tsm": pa.array([1_600_000_000_000 - i * 777 for i in range(n)], pa.timestamp("ms")),
  "dec": pa.array([maybe(i, 10, decimal.Decimal(rnd.randint(-10**8, 10**8)).scaleb(-2)) for i in range(n)], pa.decimal128(9, 2)),
  "fixed": pa.array([rnd.randbytes(6) for i in range(n)], pa.binary(6)),
}
t = pa.table(cols)
opts.setdefault("row_group_size", 1000)
opts.setdefault("data_page_size", 2000)
pq.write_table(t, path, **opts)
"""#

    private func assertOurReaderMatchesPyarrow(_ path: String, _ label: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let dump = try Checkers.run(Checkers.pyarrowDump, [path])
        let values = dump["values"] as! [String: Any]
        let reader = try ParquetReader(path: path)
        XCTAssertEqual(Int(reader.rowCount), dump["num_rows"] as? Int, label, file: file, line: line)
        XCTAssertEqual(Set(reader.schema.columns.map(\.name)), Set(values.keys), label, file: file, line: line)
        let columns = try reader.read()
        for (c, column) in reader.schema.columns.enumerated() {
            let ours = SampleTable.render(columns[c], column: column)
            let theirs = Checkers.texts(values[column.name])
            XCTAssertEqual(ours.count, theirs.count, "\(label) column \(column.name): row count", file: file, line: line)
            let floating = column.physicalType == .float || column.physicalType == .double
            if let i = ours.indices.first(where: { i in
                floating ? ours[i].flatMap(Double.init) != theirs[i].flatMap(Double.init) : ours[i] != theirs[i]
            }) {
                XCTFail("\(label) column \(column.name) row \(i): ours \(ours[i] ?? "null"), pyarrow \(theirs[i] ?? "null")", file: file, line: line)
            }
        }
    }

    func testPyarrowFilesWithEachEncodingPageVersionAndCodec() throws {
        let delta: [String: String] = [
            "i32": "DELTA_BINARY_PACKED", "i32s": "DELTA_BINARY_PACKED", "i64": "DELTA_BINARY_PACKED",
            "i64s": "DELTA_BINARY_PACKED", "bin": "DELTA_LENGTH_BYTE_ARRAY", "s": "DELTA_BYTE_ARRAY",
            "fixed": "DELTA_BYTE_ARRAY", "dt": "DELTA_BINARY_PACKED", "tsu": "DELTA_BINARY_PACKED",
        ]
        let variants: [(String, [String: Any])] = [
            ("dictionary-snappy-v1", ["compression": "snappy"]),
            ("dictionary-fallback-zstd", ["compression": "zstd", "dictionary_pagesize_limit": 2048]),
            ("plain-zstd-v1", ["compression": "zstd", "use_dictionary": false]),
            ("dictionary-gzip-v2", ["compression": "gzip", "data_page_version": "2.0"]),
            ("plain-zstd-v2", ["compression": "zstd", "data_page_version": "2.0", "use_dictionary": false]),
            ("plain-none-v2", ["compression": "none", "data_page_version": "2.0", "use_dictionary": false]),
            ("byte-stream-split", ["compression": "snappy", "use_dictionary": false, "use_byte_stream_split": ["f", "d"]]),
            ("delta-v1", ["compression": "snappy", "use_dictionary": false, "column_encoding": delta]),
            ("delta-v2", ["compression": "zstd", "use_dictionary": false, "column_encoding": delta, "data_page_version": "2.0"]),
        ]
        for (name, options) in variants {
            let path = directory.appendingPathComponent("\(name).parquet").path
            let json = String(decoding: try JSONSerialization.data(withJSONObject: options), as: UTF8.self)
            let result = try ProcessRunner.python(Self.pyarrowWrite, [path, json])
            guard result.status == 0 else {
                XCTFail("pyarrow could not write \(name): \(result.stderrText)")
                continue
            }
            try assertOurReaderMatchesPyarrow(path, name)
            // The file really uses the encodings under test.
            let reader = try ParquetReader(path: path)
            func encodings(_ column: String) -> [ParquetEncoding] {
                reader.columnMetaData(rowGroup: 0, column: reader.columnIndex(.name(column))!).encodings
            }
            if name.hasPrefix("delta") {
                XCTAssertTrue(encodings("i64").contains(.deltaBinaryPacked), "\(name): \(encodings("i64"))")
                XCTAssertTrue(encodings("bin").contains(.deltaLengthByteArray), "\(name): \(encodings("bin"))")
                XCTAssertTrue(encodings("s").contains(.deltaByteArray), "\(name): \(encodings("s"))")
            }
            if name.hasSuffix("v2") {
                // The data pages really are v2: decode the page headers of the first chunk of `i64`.
                let md = encodings("i64").isEmpty ? nil : reader.columnMetaData(rowGroup: 0, column: reader.columnIndex(.name("i64"))!)
                let chunk = try reader.input.read(offset: md!.chunkStart, length: Int(md!.totalCompressedSize))
                var thrift = ThriftCompactReader(bytes: chunk)
                var types: [Int32] = []
                while thrift.position < chunk.count {
                    let header = try thrift.readPageHeader()
                    types.append(header.type)
                    thrift = ThriftCompactReader(bytes: chunk, position: thrift.position + Int(header.compressedPageSize))
                }
                XCTAssertTrue(types.contains(PageType.dataPageV2.rawValue) && !types.contains(PageType.dataPage.rawValue), "\(name): page types \(types)")
            }
            if name == "byte-stream-split" {
                XCTAssertTrue(encodings("d").contains(.byteStreamSplit), "\(name): \(encodings("d"))")
            }
            if name.hasPrefix("dictionary") {
                XCTAssertTrue(encodings("s").contains(.rleDictionary) || encodings("s").contains(.plainDictionary), "\(name): \(encodings("s"))")
            }
        }
    }

    func testPyarrowFileWithoutFieldIdsHasNilFieldIds() throws {
        let path = directory.appendingPathComponent("noids.parquet").path
        let result = try ProcessRunner.python(Self.pyarrowWrite, [path, "{}"])
        XCTAssertEqual(result.status, 0, result.stderrText)
        let reader = try ParquetReader(path: path)
        XCTAssertTrue(reader.schema.columns.allSatisfy { $0.fieldId == nil })
        XCTAssertEqual(reader.schema.columns.first { $0.name == "tsu" }?.logicalType, .timestamp(isAdjustedToUTC: true, unit: .micros))
        XCTAssertEqual(reader.schema.columns.first { $0.name == "dec" }?.logicalType, .decimal(precision: 9, scale: 2))
        XCTAssertEqual(reader.rowGroupCount, 3)
        // By-name projection is what the Iceberg name mapping resolves to.
        let offsets = try reader.read(columns: [.name("i64s")])
        XCTAssertEqual(offsets[0].values, .int64((0..<3000).map { 1_000_000_000 + Int64($0) * 3 }))
        XCTAssertNil(reader.columnIndex(.fieldId(1)))
        // Row groups skipped by pyarrow's statistics.
        XCTAssertEqual(try reader.rowGroups(matching: [.int64(.name("i64s"), 1_000_003_000...1_000_003_003)]), [1])
    }

    /// Spark (parquet-mr) writes a Bronze-shaped DataFrame with snappy and with zstd, dictionary on, and
    /// our reader returns what pyarrow returns; Spark also reads a Bronze file we wrote.
    func testSparkWrittenBronzeFilesAndSparkReadingOurs() throws {
        guard TestEnvironment.hasPythonCheckers else { throw XCTSkip("checker venv missing") }
        let javaHome = ["/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-1.17.0-openjdk-amd64"]
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/bin/java") }
        guard let javaHome else { throw XCTSkip("Java 17 is not installed under /usr/lib/jvm: cannot run pyspark") }
        let script = #"""
import sys, datetime, random, json
from pyspark.sql import SparkSession, functions as F
from pyspark.sql.types import *
out = sys.argv[1]
spark = (SparkSession.builder.master("local[1]").appName("k2-parquet-test")
         .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
         .config("spark.driver.bindAddress", "127.0.0.1")
         .config("spark.sql.session.timeZone", "UTC")
         .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
         .getOrCreate())
schema = StructType([
    StructField("raw_bytes", BinaryType()), StructField("topic", StringType()),
    StructField("partition", IntegerType()), StructField("offset", LongType()),
    StructField("kafka_timestamp", TimestampType()), StructField("ingestion_timestamp", TimestampType()),
    StructField("ingestion_date", DateType())])
rnd = random.Random(11)
base = datetime.datetime(2025, 3, 1, 12, 0, 0, tzinfo=datetime.timezone.utc)
rows = []
for i in range(6000):
    ts = base + datetime.timedelta(microseconds=i * 1_234_567)
    rows.append((bytes([0]) + rnd.randbytes(199) if i % 13 != 5 else None,
                 "market.raw.trades.binance" if i % 2 else "market.raw.trades.kraken",
                 i % 6 if i % 17 != 3 else None, 1_000_000 + i,
                 ts, ts + datetime.timedelta(milliseconds=150), (ts + datetime.timedelta(days=i % 3)).date()))
df = spark.createDataFrame(rows, schema).coalesce(1)
for codec in ["snappy", "zstd"]:
    df.write.option("compression", codec).option("parquet.enable.dictionary", "true").mode("overwrite").parquet(out + "/" + codec)
ours = spark.read.parquet(sys.argv[2])
r = ours.agg(F.count("*").alias("rows"), F.sum("offset").alias("offset_sum"), F.sum("partition").alias("partition_sum"),
             F.count("raw_bytes").alias("raw_count"), F.sum(F.crc32("raw_bytes")).alias("raw_crc_sum"),
             F.min(F.unix_micros("kafka_timestamp")).alias("ts_min"), F.max(F.unix_micros("ingestion_timestamp")).alias("ts_max"),
             F.countDistinct("topic").alias("topics"), F.min(F.unix_date("ingestion_date")).alias("date_min")).collect()[0]
print("RESULT " + json.dumps(r.asDict()))
spark.stop()
"""#
        // Our Bronze file for Spark to read: 5,000 rows, several row groups, zstd.
        let oursPath = directory.appendingPathComponent("ours.parquet").path
        let bronze = ParquetBronzeBenchmark.batch(rows: 5_000, firstOffset: 0)
        var options = ParquetWriterOptions()
        options.rowGroupRows = 2_000
        options.pageBytes = 64 * 1024
        let output = try ParquetFileOutput(path: oursPath)
        let writer = try ParquetWriter(schema: ParquetBronzeBenchmark.schema, options: options, output: output)
        try writer.write(bronze)
        try writer.close()
        try output.close()

        let out = directory.appendingPathComponent("spark").path
        let result = try ProcessRunner.run(TestEnvironment.python, ["-c", script, out, oursPath], environment: ["JAVA_HOME": javaHome])
        guard result.status == 0 else {
            XCTFail("pyspark failed (\(result.status)): \(result.stderrText.suffix(3000))")
            return
        }
        let line = result.stdoutText.split(separator: "\n").first { $0.hasPrefix("RESULT ") }
        let sparkView = try line.flatMap { try JSONSerialization.jsonObject(with: Data($0.dropFirst(7).utf8)) as? [String: Any] } ?? [:]
        guard case .byteArray(let raw) = bronze[0].values, case .int32(let partitions) = bronze[2].values,
              case .int64(let offsets) = bronze[3].values, case .int64(let kafkaTs) = bronze[4].values,
              case .int64(let ingestTs) = bronze[5].values, case .int32(let dates) = bronze[6].values else {
            return XCTFail("unexpected bench batch layout")
        }
        XCTAssertEqual(sparkView["rows"] as? Int, 5_000, "spark reading ours: \(sparkView)")
        XCTAssertEqual((sparkView["offset_sum"] as? NSNumber)?.int64Value, offsets.reduce(0, +))
        XCTAssertEqual((sparkView["partition_sum"] as? NSNumber)?.int64Value, partitions.reduce(Int64(0)) { $0 + Int64($1) })
        XCTAssertEqual(sparkView["raw_count"] as? Int, 5_000)
        XCTAssertEqual((sparkView["raw_crc_sum"] as? NSNumber)?.int64Value,
                       (0..<raw.count).reduce(Int64(0)) { $0 + Int64(CRC32.checksum(Array(raw[$1]))) })
        XCTAssertEqual((sparkView["ts_min"] as? NSNumber)?.int64Value, kafkaTs.min())
        XCTAssertEqual((sparkView["ts_max"] as? NSNumber)?.int64Value, ingestTs.max())
        XCTAssertEqual(sparkView["topics"] as? Int, 1)
        XCTAssertEqual((sparkView["date_min"] as? NSNumber)?.int32Value, dates.min())
        for codec in ["snappy", "zstd"] {
            let dir = URL(fileURLWithPath: out).appendingPathComponent(codec)
            let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".parquet") }.sorted()
            XCTAssertFalse(files.isEmpty, "spark wrote no \(codec) files")
            for f in files {
                let path = dir.appendingPathComponent(f).path
                let reader = try ParquetReader(path: path)
                XCTAssertEqual(reader.metadata.rowGroups.first?.columns.first?.metaData?.codec,
                               codec == "snappy" ? .snappy : .zstd, f)
                XCTAssertTrue(reader.metadata.createdBy?.contains("parquet-mr") ?? false, reader.metadata.createdBy ?? "no created_by")
                let encodings = reader.columnMetaData(rowGroup: 0, column: reader.columnIndex(.name("topic"))!).encodings
                XCTAssertTrue(encodings.contains(.plainDictionary) || encodings.contains(.rleDictionary), "\(encodings)")
                try assertOurReaderMatchesPyarrow(path, "spark \(codec) \(f)")
            }
        }
    }
}
