import Avro
import Foundation
@testable import Iceberg
import TestSupport
import XCTest

/// Optimistic concurrency, gzip metadata, and bad input: clear errors and nothing half-committed.
final class CommitAndErrorTests: XCTestCase {
    var directory: URL!
    var database: String { directory.appendingPathComponent("catalog.db").path }
    var warehouse: String { "file://" + directory.appendingPathComponent("warehouse").path }
    let id = TableIdentifier(namespace: ["market_data"], name: "bronze_binance_trades_flink")

    override func setUpWithError() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing")
        directory = try TestEnvironment.temporaryDirectory("iceberg")
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func openCatalog(name: String? = "k2") async throws -> SQLCatalog {
        try await SQLCatalog.open(connection: try SQLiteConnection(path: database), name: name, warehouse: warehouse, io: LocalFileIO())
    }

    /// A Flink-style table (required columns, identity partition, gzip metadata, 5 previous versions).
    func createFlinkTable(_ catalog: SQLCatalog) async throws -> Table {
        try await catalog.createNamespace(["market_data"], properties: [:])
        var fields = BronzeFixtures.sparkSchema().fields
        for i in fields.indices {
            fields[i].required = true
            if fields[i].type == .timestamptz { fields[i].type = .timestamp }
        }
        return try await catalog.createTable(
            id, schema: Schema(fields: fields),
            spec: PartitionSpec(fields: [PartitionField(sourceId: 7, fieldId: 1000, name: "ingestion_date", transform: .identity)]),
            sortOrder: .unsorted,
            properties: ["write.parquet.compression-codec": "snappy", "write.metadata.compression-codec": "gzip",
                         "write.metadata.previous-versions-max": "5"], location: nil)
    }

    func dataFile(_ n: Int, rows: Int64 = 10) -> DataFile {
        // Metadata-only entries: these tests look at snapshots and manifests, not rows.
        DataFile(filePath: "file://\(directory.path)/data/f\(n).parquet", partition: [.date(BronzeFixtures.baseDay)],
                 recordCount: rows, fileSizeInBytes: 1000 + Int64(n))
    }

    func testLosingWriterRetriesAndBothSnapshotsSurvive() async throws {
        let catalog = try await openCatalog()
        let base = try await createFlinkTable(catalog)
        let append = FastAppend(catalog: catalog)
        // Writer A commits from the base; writer B still holds the base and must reload and retry.
        let a = try await append.commit(table: base, files: [dataFile(1)], summary: ["flink.max-committed-checkpoint-id": "1"])
        let b = try await append.commit(table: base, files: [dataFile(2, rows: 5)], summary: ["flink.max-committed-checkpoint-id": "2"])
        XCTAssertEqual(b.metadata.currentSnapshot?.parentSnapshotId, a.metadata.currentSnapshotId)
        XCTAssertEqual(b.metadata.currentSnapshot?.sequenceNumber, 2)
        XCTAssertEqual(b.metadata.currentSnapshot?.summary["total-records"], "15")
        XCTAssertTrue(b.metadataLocation.hasSuffix(".gz.metadata.json"))
        let gz = try await LocalFileIO().read(b.metadataLocation)
        XCTAssertEqual(Array(gz.prefix(2)), [0x1F, 0x8B], "metadata must be gzip-compressed")

        // Each snapshot's own added files, and the main branch's history.
        let addedByA = try await b.addedDataFiles(of: a.metadata.currentSnapshot!)
        let addedByB = try await b.addedDataFiles(of: b.metadata.currentSnapshot!)
        XCTAssertEqual(addedByA.map(\.dataFile.filePath), [dataFile(1).filePath])
        XCTAssertEqual(addedByB.map(\.dataFile.filePath), [dataFile(2).filePath])
        XCTAssertEqual(addedByB.first?.sequenceNumber, 2)
        XCTAssertEqual(b.history.map(\.snapshotId), [a.metadata.currentSnapshotId!, b.metadata.currentSnapshotId!])

        // Concurrent writers racing on the compare-and-swap: every append lands exactly once.
        let start = try await catalog.loadTable(id)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 10..<16 {
                group.addTask {
                    let other = try await self.openCatalog()
                    _ = try await FastAppend(catalog: other).commit(table: start, files: [self.dataFile(n)])
                }
            }
            try await group.waitForAll()
        }
        let final = try await catalog.loadTable(id)
        XCTAssertEqual(final.metadata.snapshots.count, 8)
        XCTAssertLessThanOrEqual(final.metadata.metadataLog.count, 5)
        let files = try await TableScan(table: final).planFiles().map(\.dataFile.filePath).sorted()
        XCTAssertEqual(files, ([1, 2] + Array(10..<16)).map { dataFile($0).filePath }.sorted())

        // pyiceberg reads the gzip metadata and sees every snapshot, chained, with our summary keys.
        let out = try BronzeFixtures.pyiceberg("""
            t = cat.load_table("market_data.bronze_binance_trades_flink")
            snaps = t.snapshots()
            chain, cur = [], t.current_snapshot()
            while cur is not None:
                chain.append(cur.snapshot_id)
                cur = t.snapshot_by_id(cur.parent_snapshot_id) if cur.parent_snapshot_id else None
            assert len(chain) == len(snaps) == 8
            assert sorted(s.sequence_number for s in snaps) == list(range(1, 9))
            files = sorted(f.file.file_path for f in t.scan().plan_files())
            print(json.dumps({"files": len(files), "total": t.current_snapshot().summary["total-records"],
                              "ckpt": snaps[1].summary["flink.max-committed-checkpoint-id"],
                              "loc": t.metadata_location}))
            """, database: database, warehouse: warehouse)
        let json = try JSONValue.parse(out)
        XCTAssertEqual(json["files"], .int(8))
        XCTAssertEqual(json["total"], .string("75"))
        XCTAssertEqual(json["ckpt"], .string("2"))
        XCTAssertEqual(json["loc"], .string(final.metadataLocation))
    }

    /// Properties given to an append land with its snapshot, are applied to the metadata current when the
    /// commit finally succeeds (a retry keeps what other writers set in between), and stay unset when the
    /// append is abandoned.
    func testAppendPropertiesLandWithTheSnapshotAndKeepOtherWritersProperties() async throws {
        let catalog = try await openCatalog()
        let base = try await createFlinkTable(catalog)
        let append = FastAppend(catalog: catalog)
        let a = try await append.commit(table: base, files: [dataFile(1)], properties: ["k2.replay.aaaa.commit": "1"])
        XCTAssertEqual(a.metadata.properties["k2.replay.aaaa.commit"], "1")
        // Another writer changes properties only; then B, still holding the base table, conflicts and retries.
        _ = try await catalog.commitTable(a, requirements: [], updates: [.setProperties(["owner": "flink", "k2.replay.aaaa.commit": "2"])])
        let b = try await append.commit(table: base, files: [dataFile(2)], properties: ["k2.replay.bbbb.commit": "1"])
        XCTAssertEqual(b.metadata.snapshots.count, 2)
        // An abandoned append (its validation refuses the reloaded table) sets nothing.
        do {
            _ = try await append.commit(table: a, files: [dataFile(3)], properties: ["k2.replay.cccc.commit": "1"],
                                        validate: { _ in throw IcebergError.invalidArgument("stop") })
            XCTFail("the stale append must reach validation and stop")
        } catch IcebergError.invalidArgument(let message) {
            XCTAssertEqual(message, "stop")
        }

        let out = try BronzeFixtures.pyiceberg("""
            t = cat.load_table("market_data.bronze_binance_trades_flink")
            print(json.dumps({"properties": dict(t.properties), "snapshots": len(t.snapshots())}))
            """, database: database, warehouse: warehouse)
        let json = try JSONValue.parse(out)
        XCTAssertEqual(json["snapshots"], .int(2))
        let properties = json["properties"]?.objectValue.map { Dictionary(uniqueKeysWithValues: $0.map { ($0.0, $0.1.stringValue ?? "") }) }
        XCTAssertEqual(properties, ["write.parquet.compression-codec": "snappy", "write.metadata.compression-codec": "gzip",
                                    "write.metadata.previous-versions-max": "5", "owner": "flink",
                                    "k2.replay.aaaa.commit": "2", "k2.replay.bbbb.commit": "1"])
    }

    func testGivingUpLeavesNothingBehind() async throws {
        let catalog = try await openCatalog()
        let base = try await createFlinkTable(catalog)
        _ = try await FastAppend(catalog: catalog).commit(table: base, files: [dataFile(1)])
        let before = try listMetadataDirectory()
        do {
            _ = try await FastAppend(catalog: catalog, maxAttempts: 1).commit(table: base, files: [dataFile(2)])
            XCTFail("a stale single-attempt append must fail")
        } catch IcebergError.commitConflict(let table, let message) {
            XCTAssertEqual(table, "market_data.bronze_binance_trades_flink")
            XCTAssertTrue(message.contains("gave up after 1 attempts"), message)
        }
        XCTAssertEqual(try listMetadataDirectory(), before, "a failed append must remove its manifest and manifest list")
        let table = try await catalog.loadTable(id)
        XCTAssertEqual(table.metadata.snapshots.count, 1)
    }

    func testUnreadableParentManifestListLeavesNothingBehind() async throws {
        let catalog = try await openCatalog()
        let base = try await createFlinkTable(catalog)
        let table = try await FastAppend(catalog: catalog).commit(table: base, files: [dataFile(1)])
        let parentList = table.metadata.currentSnapshot!.manifestList
        try await LocalFileIO().delete(parentList)
        let before = try listMetadataDirectory()
        do {
            _ = try await FastAppend(catalog: catalog).commit(table: table, files: [dataFile(2)])
            XCTFail("an append on top of a missing manifest list must fail")
        } catch {
            XCTAssertTrue("\(error)".hasPrefix(parentList + ": manifest list of snapshot"), "\(error)")
        }
        XCTAssertEqual(try listMetadataDirectory(), before, "a failed append must remove the manifest it wrote")
        let reloaded = try await catalog.loadTable(id)
        XCTAssertEqual(reloaded.metadata.snapshots.count, 1)
    }

    func listMetadataDirectory() throws -> [String] {
        let dir = directory.appendingPathComponent("warehouse/market_data/bronze_binance_trades_flink/metadata").path
        return try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    }

    func testUnknownFormatVersionNamesTheFile() async throws {
        let catalog = try await openCatalog()
        let table = try await createFlinkTable(catalog)
        var json = String(decoding: try table.metadata.serialized().isEmpty ? [] : Array(table.metadata.toJSON().serialized().utf8), as: UTF8.self)
        json = json.replacingOccurrences(of: "\"format-version\":2", with: "\"format-version\":9")
        let location = table.metadata.metadataDirectory + "/00001-bad.metadata.json"
        try await LocalFileIO().write(location, contents: Array(json.utf8))
        let db = try SQLiteConnection(path: database)
        try await db.execute("UPDATE iceberg_tables SET metadata_location = ? WHERE table_name = ?", [.text(location), .text(id.name)])
        do {
            _ = try await catalog.loadTable(id)
            XCTFail("format-version 9 must be refused")
        } catch {
            XCTAssertEqual("\(error)", "\(location): unsupported format-version 9 (supported: 1, 2)")
        }
    }

    func testCorruptOrMissingManifestNamesTheFile() async throws {
        let catalog = try await openCatalog()
        let base = try await createFlinkTable(catalog)
        let table = try await FastAppend(catalog: catalog).commit(table: base, files: [dataFile(1)])
        let list = try ManifestList.read(try await LocalFileIO().read(table.metadata.currentSnapshot!.manifestList),
                                         location: table.metadata.currentSnapshot!.manifestList)
        let manifest = list[0].manifestPath
        var bytes = try await LocalFileIO().read(manifest)
        bytes.removeLast(bytes.count / 3)
        try await LocalFileIO().write(manifest, contents: bytes)
        do {
            _ = try await TableScan(table: table).planFiles()
            XCTFail("a truncated manifest must be refused")
        } catch {
            XCTAssertTrue("\(error)".hasPrefix(manifest + ": manifest"), "\(error)")
        }
        try await LocalFileIO().delete(manifest)
        do {
            _ = try await TableScan(table: table).planFiles()
            XCTFail("a missing manifest must be refused")
        } catch {
            XCTAssertTrue("\(error)".hasPrefix(manifest + ": manifest cannot be read"), "\(error)")
            XCTAssertTrue("\(error)".contains("no such file"), "\(error)")
        }
    }

    func testCatalogNameResolution() async throws {
        let first = try await openCatalog(name: nil)
        XCTAssertEqual(first.name, "k2")
        let other = try await openCatalog(name: "prod")
        try await other.createNamespace(["market_data"], properties: [:])
        let resolved = try await openCatalog(name: nil)
        XCTAssertEqual(resolved.name, "prod")
        let k2 = try await openCatalog(name: "k2")
        try await k2.createNamespace(["raw"], properties: [:])
        do {
            _ = try await openCatalog(name: nil)
            XCTFail("two catalog names must be an error")
        } catch {
            XCTAssertTrue("\(error)".contains("(k2, prod)"), "\(error)")
        }
        let namespaces = try await k2.listNamespaces()
        XCTAssertEqual(namespaces, [["raw"]])
    }

    func testCatalogTablesWithoutIcebergTypeColumn() async throws {
        // The older JDBC schema (no iceberg_type), as Java's JdbcCatalog v0 and old pyiceberg created it.
        let db = try SQLiteConnection(path: database)
        try await db.execute("""
            CREATE TABLE iceberg_tables (catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL,
              table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000), previous_metadata_location VARCHAR(1000),
              PRIMARY KEY (catalog_name, table_namespace, table_name))
            """, [])
        let catalog = try await openCatalog()
        let base = try await createFlinkTable(catalog)
        _ = try await FastAppend(catalog: catalog).commit(table: base, files: [dataFile(1)])
        let columns = try await db.query("PRAGMA table_info(iceberg_tables)", []).compactMap { $0["name"]?.text }
        XCTAssertFalse(columns.contains("iceberg_type"), "the catalog must not alter an existing schema")
        let tables = try await catalog.listTables(namespace: ["market_data"])
        XCTAssertEqual(tables, [id])
        let out = try BronzeFixtures.pyiceberg("""
            t = cat.load_table("market_data.bronze_binance_trades_flink")
            print(len(t.snapshots()), t.current_snapshot().summary["total-records"])
            """, database: database, warehouse: warehouse)
        XCTAssertEqual(out, "1 10")
    }
}
