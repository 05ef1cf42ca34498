import Avro
import Foundation
@testable import Iceberg
import Parquet
import TestSupport
import XCTest

/// Data files other engines wrote (pyarrow, Spark) without field ids, registered with pyiceberg
/// `add_files`: TableScan + ScanReader must return exactly what pyiceberg's own scan returns, converting
/// what the files store (TIMESTAMP(MILLIS), INT96, INT32 for a `long`, FLOAT for a `double`, INT32/INT64
/// and narrower decimals) to the table's types, and matching columns through the name mapping.
final class ForeignFileScanTests: XCTestCase {
    var directory: URL!
    var database: String { directory.appendingPathComponent("catalog.db").path }
    var warehouse: String { "file://" + directory.appendingPathComponent("warehouse").path }

    override func setUpWithError() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing")
        directory = try TestEnvironment.temporaryDirectory("iceberg-foreign")
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Python that prints pyiceberg's scan of a table as rows of texts, in the form `render` gives ours:
    /// integers, timestamps (µs) and dates (days) as numbers, doubles as their bit pattern, decimals as the
    /// unscaled integer, strings as themselves, nulls as "null"; sorted by the first column.
    static let pythonDump = #"""
        import json, struct, decimal
        import pyarrow as pa, pyarrow.compute as pc
        def dump(t, row_filter=None):
            a = t.scan(row_filter=row_filter).to_arrow() if row_filter else t.scan().to_arrow()
            cols = []
            for f in t.schema().fields:
                c = a.column(f.name)
                if pa.types.is_timestamp(c.type):
                    c = pc.cast(c, pa.int64())
                elif pa.types.is_date(c.type):
                    c = pc.cast(c, pa.int32())
                out = []
                for v in c.to_pylist():
                    if v is None: out.append("null")
                    elif isinstance(v, float): out.append(struct.pack(">d", v).hex())
                    elif isinstance(v, decimal.Decimal): out.append(str(int(v.scaleb(-v.as_tuple().exponent))))
                    else: out.append(str(v))
                cols.append(out)
            rows = [list(r) for r in zip(*cols)]
            rows.sort(key=lambda r: int(r[0]))
            return rows
        """#

    /// Every row of the table's current snapshot read through TableScan + ScanReader, rendered like
    /// `pythonDump`. With `filters`, only the rows kept by file and row-group pruning are read.
    func readRows(_ table: Table, filters: [ColumnRange] = []) async throws -> [[String]] {
        let fields = table.metadata.currentSchema.fields
        let reader = try ScanReader(table: table)
        var rows: [[String]] = []
        for task in try await TableScan(table: table, filters: filters).planFiles() {
            let columns = try await reader.read(task, columns: fields.map(\.name), filters: filters)
            var cursors = [Int](repeating: 0, count: columns.count)
            for row in 0..<(columns.first?.rowCount ?? 0) {
                var out: [String] = []
                for (c, column) in columns.enumerated() {
                    XCTAssertEqual(column.rowCount, columns[0].rowCount, "column \(fields[c].name)")
                    if let validity = column.validity, !validity[row] { out.append("null"); continue }
                    out.append(Self.render(column.values, at: cursors[c], type: fields[c].type))
                    cursors[c] += 1
                }
                rows.append(out)
            }
        }
        return rows.sorted { Int64($0[0])! < Int64($1[0])! }
    }

    static func render(_ values: ColumnValues, at i: Int, type: IcebergType) -> String {
        switch values {
        case .boolean(let v): return "\(v[i])"
        case .int32(let v): return "\(v[i])"
        case .int64(let v): return "\(v[i])"
        case .float(let v): return String(format: "%016llx", Double(v[i]).bitPattern)
        case .double(let v): return String(format: "%016llx", v[i].bitPattern)
        case .byteArray(let v): return v.string(at: i)
        case .fixedLenByteArray(let v):
            // Decimals: big-endian two's complement unscaled values (at most 8 bytes here).
            var unscaled: Int64 = (v[i].first ?? 0) & 0x80 != 0 ? -1 : 0
            for byte in v[i] { unscaled = unscaled << 8 | Int64(byte) }
            return "\(unscaled)"
        }
    }

    func pyiceberg(_ body: String, args: [String] = [], environment: [String: String]? = nil) throws -> JSONValue {
        let script = Self.pythonDump + "\n" + #"""
            import sys, os
            from pyiceberg.catalog.sql import SqlCatalog
            from pyiceberg.schema import Schema
            from pyiceberg.types import *
            cat = SqlCatalog("k2", uri="sqlite:///" + sys.argv[1], warehouse=sys.argv[2])
            cat.create_namespace_if_not_exists("market_data")
            """# + "\n" + body
        let result = try ProcessRunner.run(TestEnvironment.python, ["-c", script, database, warehouse, directory.path] + args,
                                           environment: environment)
        guard result.status == 0 else {
            throw ScriptFailed(description: "python failed (\(result.status)): \(result.stderrText.suffix(4000))")
        }
        return try JSONValue.parse(result.stdoutText.split(separator: "\n").last.map(String.init) ?? "")
    }

    struct ScriptFailed: Error, CustomStringConvertible { let description: String }

    func catalog() async throws -> SQLCatalog {
        try await SQLCatalog.open(connection: try SQLiteConnection(path: database), name: nil, warehouse: warehouse, io: LocalFileIO())
    }

    static func rows(_ json: JSONValue?) -> [[String]] {
        (json?.arrayValue ?? []).map { ($0.arrayValue ?? []).map { $0.stringValue ?? "?" } }
    }

    /// pyarrow files (no field ids; several row groups): TIMESTAMP(MILLIS) with and without UTC adjustment,
    /// INT32 for a `long`, FLOAT for a `double`, decimal(9, 2) as FIXED_LEN_BYTE_ARRAY and as INT32 for a
    /// decimal(12, 2) column; then a column renamed (the mapping keeps the file's name) and one added.
    func testPyarrowMillisTimestampsPromotedColumnsAndRenames() async throws {
        let expected = try pyiceberg(#"""
            import datetime
            import pyarrow.parquet as pq
            schema = Schema(
                NestedField(1, "id", LongType(), required=True), NestedField(2, "ts_ms", TimestamptzType(), required=False),
                NestedField(3, "ts_local", TimestampType(), required=False), NestedField(4, "price", DoubleType(), required=False),
                NestedField(5, "day", DateType(), required=False), NestedField(6, "amount", DecimalType(12, 2), required=False),
                NestedField(7, "note", StringType(), required=False))
            t = cat.create_table("market_data.arrow", schema)
            def write(k, first, n):
                ids = list(range(first, first + n))
                def maybe(i, m, v): return None if i % m == 3 else v
                cols = {
                    "id": pa.array(ids, pa.int32()),
                    "ts_ms": pa.array([maybe(i, 7, 1_764_028_800_123 + i * 1001) for i in ids], pa.timestamp("ms", tz="UTC")),
                    "ts_local": pa.array([-86_400_000 + i * 37 for i in ids], pa.timestamp("ms")),
                    "price": pa.array([maybe(i, 6, 0.1 * i - 3.3) for i in ids], pa.float32()),
                    "day": pa.array([datetime.date(1969, 12, 1) + datetime.timedelta(days=i % 90) for i in ids], pa.date32()),
                    "amount": pa.array([maybe(i, 4, decimal.Decimal(i * 12345 - 500000).scaleb(-2)) for i in ids], pa.decimal128(9, 2)),
                    "note": pa.array([maybe(i, 9, f"n{i}é") for i in ids], pa.string()),
                }
                tab = pa.table(cols)
                tab = tab.cast(tab.schema.set(0, pa.field("id", pa.int32(), nullable=False)))
                path = os.path.join(sys.argv[3], f"arrow-{k}.parquet")
                pq.write_table(tab, path, row_group_size=300, store_decimal_as_integer=(k == 1))
                f = pq.ParquetFile(path)
                # The file stores what the test is about (no ids; millis; int32; float; decimal encodings).
                assert f.metadata.num_row_groups > 1
                assert [c.physical_type for c in f.schema] == ["INT32", "INT64", "INT64", "FLOAT", "INT32",
                    "INT32" if k == 1 else "FIXED_LEN_BYTE_ARRAY", "BYTE_ARRAY"], f.schema
                assert all("milliseconds" in str(f.schema.column(c).logical_type) for c in (1, 2))
                assert all(b"PARQUET:field_id" not in (fl.metadata or {}) for fl in f.schema_arrow)
                return "file://" + path
            t.add_files([write(0, 0, 1000), write(1, 1000, 700)])
            with t.update_schema() as u:
                u.rename_column("note", "memo")
                u.add_column("extra", StringType())
            t = cat.load_table("market_data.arrow")
            ts0 = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc) + datetime.timedelta(milliseconds=1_764_028_800_123 + 1200 * 1001)
            print(json.dumps({"all": dump(t), "filtered": dump(t, f"id >= 1200 and ts_ms >= '{ts0.isoformat()}'")}))
            """#)
        let table = try await catalog().loadTable(TableIdentifier(namespace: ["market_data"], name: "arrow"))
        XCTAssertEqual(table.metadata.currentSchema.fields.map(\.name), ["id", "ts_ms", "ts_local", "price", "day", "amount", "memo", "extra"])
        let all = try await readRows(table)
        let theirs = Self.rows(expected["all"])
        XCTAssertEqual(all.count, 1700)
        XCTAssertEqual(theirs.count, 1700)
        for (ours, pyiceberg) in zip(all, theirs) where ours != pyiceberg {
            XCTFail("row \(ours[0]): ours \(ours), pyiceberg \(pyiceberg)")
            break
        }
        // Spot checks against the formulas, so a wrong conversion on both sides could not pass.
        XCTAssertEqual(all[5], ["5", "\((1_764_028_800_123 + 5 * 1001) * 1000)", "\((-86_400_000 + 5 * 37) * 1000)",
                                String(format: "%016llx", Double(Float(0.1 * 5 - 3.3)).bitPattern), "\(-31 + 5)",
                                "\(5 * 12345 - 500000)", "n5é", "null"])
        XCTAssertEqual(all[1003][5], "null")  // 1003 % 4 == 3
        XCTAssertEqual(all[1004][5], "\(1004 * 12345 - 500000)")

        // Pruning by the int32 `id` and the millisecond `ts_ms` statistics keeps every matching row and
        // skips row groups (ranges given in the table's types: long, microseconds).
        let ts0: Int64 = (1_764_028_800_123 + 1200 * 1001) * 1000
        let filters = [ColumnRange(column: "id", lower: .long(1200)), ColumnRange(column: "ts_ms", lower: .timestamptz(ts0))]
        let pruned = try await readRows(table, filters: filters)
        XCTAssertLessThan(pruned.count, 1700, "row groups were skipped")
        let kept = pruned.filter { Int64($0[0])! >= 1200 && $0[1] != "null" && Int64($0[1])! >= ts0 }
        XCTAssertEqual(kept, Self.rows(expected["filtered"]))
        XCTAssertGreaterThan(kept.count, 400)
    }

    /// Spark (parquet-mr) files: INT96 timestamps (`outputTimestampType=INT96`, Spark's legacy default),
    /// TIMESTAMP_MICROS and TIMESTAMP_MILLIS, decimals as INT32 and INT64, an IntegerType column for a
    /// `long`; times before 1970 included. Registered with pyiceberg `add_files`.
    func testSparkInt96MicrosAndMillisFiles() async throws {
        let javaHome = ["/usr/lib/jvm/java-17-openjdk-amd64", "/usr/lib/jvm/java-1.17.0-openjdk-amd64"]
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/bin/java") }
        guard let javaHome else { throw XCTSkip("Java 17 is not installed under /usr/lib/jvm: cannot run pyspark") }
        let expected = try pyiceberg(#"""
            import glob, datetime
            import pyarrow.parquet as pq
            import pyiceberg.io.pyarrow as pio
            from pyspark.sql import SparkSession
            from pyspark.sql.types import StructType, StructField, LongType as SLong, TimestampType as STs, \
                DecimalType as SDec, DateType as SDate, StringType as SStr, IntegerType as SInt
            spark = (SparkSession.builder.master("local[1]").appName("k2-iceberg-foreign")
                     .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                     .config("spark.driver.bindAddress", "127.0.0.1").config("spark.sql.session.timeZone", "UTC")
                     .config("spark.sql.shuffle.partitions", "1").getOrCreate())
            spark_schema = StructType([StructField("id", SLong(), False), StructField("ts", STs()),
                StructField("small", SDec(5, 2)), StructField("amount", SDec(15, 3)), StructField("day", SDate()),
                StructField("name", SStr()), StructField("qty", SInt())])
            base = datetime.datetime(2025, 11, 25, tzinfo=datetime.timezone.utc)
            def rows(first, n):
                out = []
                for i in range(first, first + n):
                    # Every third time lies before 1970 (negative microseconds).
                    ts = None if i % 11 == 4 else base + datetime.timedelta(microseconds=i * 1_234_567 - (i % 3 == 0) * 1_800_000 * 10**9)
                    out.append((i, ts, None if i % 7 == 2 else decimal.Decimal(i % 20000 - 10000).scaleb(-2),
                                decimal.Decimal(i * 1_000_003 - 5 * 10**8).scaleb(-3),
                                datetime.date(2025, 1, 1) + datetime.timedelta(days=i % 400), None if i % 5 == 1 else f"s{i}", i % 1000 - 500))
                return out
            paths = {}
            for kind, first in [("INT96", 0), ("TIMESTAMP_MICROS", 3000), ("TIMESTAMP_MILLIS", 6000)]:
                spark.conf.set("spark.sql.parquet.outputTimestampType", kind)
                target = os.path.join(sys.argv[3], "spark-" + kind)
                (spark.createDataFrame(rows(first, 3000), spark_schema).coalesce(1).write
                    .option("compression", "zstd").option("parquet.block.size", 65536).parquet(target))
                [paths[kind]] = glob.glob(target + "/*.parquet")
                f = pq.ParquetFile(paths[kind])
                assert f.metadata.num_row_groups > 1, kind
                assert [c.physical_type for c in f.schema] == ["INT64", "INT96" if kind == "INT96" else "INT64", "INT32", "INT64",
                                                              "INT32", "BYTE_ARRAY", "INT32"], f.schema
                assert kind == "INT96" or kind.split("_")[1].lower()[:5] in str(f.schema.column(1).logical_type).lower()
            spark.stop()
            t = cat.create_table("market_data.spark", Schema(
                NestedField(1, "id", LongType(), required=True), NestedField(2, "ts", TimestamptzType(), required=False),
                NestedField(3, "small", DecimalType(5, 2), required=False), NestedField(4, "amount", DecimalType(15, 3), required=False),
                NestedField(5, "day", DateType(), required=False), NestedField(6, "name", StringType(), required=False),
                NestedField(7, "qty", LongType(), required=False)))
            t.add_files(["file://" + paths["TIMESTAMP_MICROS"], "file://" + paths["TIMESTAMP_MILLIS"]])
            # pyiceberg 0.12's add_files takes no INT96 file: its schema check reads INT96 as a zone-less
            # nanosecond timestamp and its statistics code expects INT64. Skip both (no metrics for `ts`);
            # the rest of add_files (manifest, snapshot) is pyiceberg's, and so is the scan below.
            with t.transaction() as tx:
                tx.set_properties({"write.metadata.metrics.column.ts": "none"})
            t = cat.load_table("market_data.spark")
            check = pio._check_pyarrow_schema_compatible
            pio._check_pyarrow_schema_compatible = lambda *args, **kwargs: None
            t.add_files(["file://" + paths["INT96"]])
            pio._check_pyarrow_schema_compatible = check
            t = cat.load_table("market_data.spark")
            print(json.dumps({"all": dump(t)}))
            """#, environment: ["JAVA_HOME": javaHome])
        let table = try await catalog().loadTable(TableIdentifier(namespace: ["market_data"], name: "spark"))
        let all = try await readRows(table)
        let theirs = Self.rows(expected["all"])
        XCTAssertEqual(all.count, 9000)
        XCTAssertEqual(theirs.count, 9000)
        for (ours, pyiceberg) in zip(all, theirs) where ours != pyiceberg {
            XCTFail("row \(ours[0]): ours \(ours), pyiceberg \(pyiceberg)")
            break
        }
        // From the formulas: an INT96 time before 1970, one after, and the millisecond file's truncation.
        let base: Int64 = 1_764_028_800_000_000
        XCTAssertEqual(all[3][1], "\(base + 3 * 1_234_567 - 1_800_000 * 1_000_000_000)")
        XCTAssertEqual(all[5][1], "\(base + 5 * 1_234_567)")
        XCTAssertEqual(all[6001][1], "\((base + 6001 * 1_234_567) / 1000 * 1000)")
        XCTAssertEqual(Array(all[5][2...]), ["\(5 - 10000)", "\(5 * 1_000_003 - 500_000_000)", "\(20089 + 5)", "s5", "\(5 - 500)"])
    }

    /// The projection rules: without a name mapping nothing matches by name (optional fields read null,
    /// a required one is an error); a mapping decides which file column a field reads, aliases included,
    /// whatever the fields are called now; a column that cannot be read as its field's type is an error
    /// naming the file and the column.
    func testNameMappingRules() async throws {
        let expected = try pyiceberg(#"""
            import pyarrow.parquet as pq
            t = cat.create_table("market_data.m", Schema(NestedField(1, "a", LongType(), required=True),
                NestedField(2, "b", StringType(), required=False), NestedField(3, "c", StringType(), required=False)))
            path = os.path.join(sys.argv[3], "m.parquet")
            tab = pa.table({"a": pa.array(range(50), pa.int64()), "b": [f"b{i}" for i in range(50)], "c": [f"c{i}" for i in range(50)]})
            pq.write_table(tab.cast(tab.schema.set(0, pa.field("a", pa.int64(), nullable=False))), path)
            t.add_files(["file://" + path])
            with t.update_schema() as u:
                u.add_column("d", StringType())
            # Fields b and c read each other's file column (b through an alias); d has no names; a is unchanged.
            # (pyiceberg wants every file column mapped to an id, so none is left unmapped here.)
            with t.transaction() as tx:
                tx.set_properties({"schema.name-mapping.default": json.dumps([{"field-id": 1, "names": ["a"]},
                    {"field-id": 2, "names": ["old_b", "c"]}, {"field-id": 3, "names": ["b"]}, {"field-id": 4, "names": []}])})
            t = cat.load_table("market_data.m")
            print(json.dumps({"remapped": dump(t)}))
            """#)
        let catalog = try await catalog()
        let id = TableIdentifier(namespace: ["market_data"], name: "m")
        var table = try await catalog.loadTable(id)
        let remapped = try await readRows(table)
        XCTAssertEqual(remapped, Self.rows(expected["remapped"]))
        XCTAssertEqual(remapped.count, 50)
        XCTAssertEqual(remapped.first, ["0", "c0", "b0", "null"])

        // A mapping that sends the long field to a string column.
        table = try await catalog.commitTable(table, requirements: [], updates: [.setProperties(["schema.name-mapping.default":
            #"[{"field-id": 1, "names": ["b"]}, {"field-id": 2, "names": ["c"]}]"#])])
        let task = try await TableScan(table: table).planFiles()[0]
        let file = task.dataFile.filePath
        do {
            _ = try await ScanReader(table: table).read(task, columns: ["a"])
            XCTFail("a string column read as a long must be an error")
        } catch {
            XCTAssertEqual("\(error)", "\(file): column b (BYTE_ARRAY STRING) of a data file of table market_data.m cannot be read as field a (id 1) of type long")
        }

        // No mapping: names alone match nothing.
        table = try await catalog.commitTable(table, requirements: [], updates: [.removeProperties(["schema.name-mapping.default"])])
        let optional = try await ScanReader(table: table).read(task, columns: ["b", "c", "d"])
        XCTAssertEqual(optional.map(\.rowCount), [50, 50, 50])
        XCTAssertEqual(optional.map(\.nullCount), [50, 50, 50])
        do {
            _ = try await ScanReader(table: table).read(task, columns: ["a"])
            XCTFail("a required field the file lacks must be an error")
        } catch {
            XCTAssertEqual("\(error)", "\(file): data file of table market_data.m has no column for required field a (id 1) (its columns carry no field ids and the table has no schema.name-mapping.default)")
        }
    }

    /// A file without the column an identity partition is built on (a migrated Hive table keeps it in the
    /// directory name only) reads that column as the file's partition value, as pyiceberg's scan does.
    func testIdentityPartitionValueForAColumnTheFileLacks() async throws {
        _ = try pyiceberg(#"""
            from pyiceberg.partitioning import PartitionSpec, PartitionField
            from pyiceberg.transforms import IdentityTransform
            import pyarrow.parquet as pq
            cat.create_table("market_data.hive", Schema(NestedField(1, "a", LongType(), required=True),
                NestedField(2, "p", IntegerType(), required=False)),
                partition_spec=PartitionSpec(PartitionField(2, 1000, IdentityTransform(), "p")))
            tab = pa.table({"a": pa.array(range(40), pa.int64())})
            pq.write_table(tab.cast(pa.schema([pa.field("a", pa.int64(), nullable=False)])), os.path.join(sys.argv[3], "p=7.parquet"))
            print("{}")
            """#)
        let catalog = try await catalog()
        var table = try await catalog.loadTable(TableIdentifier(namespace: ["market_data"], name: "hive"))
        let path = directory.appendingPathComponent("p=7.parquet").path
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        table = try await catalog.commitTable(table, requirements: [], updates: [.setProperties(["schema.name-mapping.default":
            #"[{"field-id": 1, "names": ["a"]}, {"field-id": 2, "names": ["p"]}]"#])])
        table = try await FastAppend(catalog: catalog).commit(table: table, files: [
            DataFile(filePath: "file://" + path, partition: [.int(7)], recordCount: 40, fileSizeInBytes: Int64(size))])
        let ours = try await readRows(table)
        let expected = try pyiceberg(#"""
            print(json.dumps(dump(cat.load_table("market_data.hive"))))
            """#)
        XCTAssertEqual(ours.count, 40)
        XCTAssertEqual(ours, Self.rows(expected))
        XCTAssertEqual(Set(ours.map { $0[1] }), ["7"])
    }

    /// Pieces of a column join in order with their nulls; a piece of the wrong kind is an error, not dropped.
    func testAssemblerJoinsPiecesAndRefusesMismatches() throws {
        var a = try ColumnAssembler(type: .long)
        try a.append(ColumnData(.int64([1, 2])), conversion: .same)
        try a.append(ColumnData(.int64([3]), validity: [false, true, false]), conversion: .same)
        try a.append(ColumnData(.int32([-4, 5])), conversion: .int32ToInt64(multiply: 1))
        try a.append(ColumnData(.int64([-1500, 1500])), conversion: .floorDivide(1000))
        XCTAssertEqual(a.finish(), ColumnData(.int64([1, 2, 3, -4, 5, -2, 1]), validity: [true, true, false, true, false, true, true, true, true]))
        XCTAssertThrowsError(try a.append(ColumnData(.int32([1])), conversion: .same))
        XCTAssertThrowsError(try a.append(ColumnData(.int64([Int64.max / 10])), conversion: .multiply(1000)))

        // INT96: Julian day 2440587 (1969-12-31) at 23:59:59.999999; 2440588 (1970-01-01) at 00:00:00.000001.
        func int96(_ nanos: UInt64, _ day: UInt32) -> [UInt8] {
            withUnsafeBytes(of: nanos.littleEndian, Array.init) + withUnsafeBytes(of: day.littleEndian, Array.init)
        }
        var t = try ColumnAssembler(type: .timestamptz)
        try t.append(ColumnData(.fixedLenByteArray(FixedLenByteArrayValues(width: 12, bytes: int96(86_399_999_999_000, 2_440_587) + int96(1000, 2_440_588)))),
                     conversion: .int96(nanosPerUnit: 1000))
        XCTAssertEqual(t.finish().values, .int64([-1, 1]))

        // Decimals re-sized to the table's width: INT32 and a 2-byte FIXED into decimal(12, 2) (6 bytes).
        var d = try ColumnAssembler(type: .decimal(precision: 12, scale: 2))
        try d.append(ColumnData(.int32([-2, 300])), conversion: .decimal(width: 6))
        try d.append(ColumnData(.fixedLenByteArray(FixedLenByteArrayValues(width: 2, bytes: [0xFF, 0x00]))), conversion: .decimal(width: 6))
        XCTAssertEqual(d.finish().values, .fixedLenByteArray(FixedLenByteArrayValues(width: 6, bytes:
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE, 0, 0, 0, 0, 0x01, 0x2C, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00])))
        var narrow = [UInt8]()
        XCTAssertThrowsError(try ColumnAssembler.appendBigEndian([0x01, 0x00, 0x00][...], width: 2, into: &narrow))
        try ColumnAssembler.appendBigEndian([0xFF, 0x80, 0x00][...], width: 2, into: &narrow)
        XCTAssertEqual(narrow, [0x80, 0x00])
    }
}
