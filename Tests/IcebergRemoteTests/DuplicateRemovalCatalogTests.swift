import Bronze
import Foundation
import Iceberg
import K2Core
import Parquet
import TestSupport
import XCTest

/// `BronzeDuplicateRemoval` through catalogs `CatalogOpener` opens other than SQLite: a real PostgreSQL
/// server (JDBC catalog tables) and the REST test server. A range written twice is removed in one `delete`
/// snapshot, our scan and duckdb (reading the metadata the catalog points at) see each offset once, and a
/// rerun commits nothing.
final class DuplicateRemovalCatalogTests: PostgreSQLTestCase {
    override class var temporaryDirectoryPrefix: String? { "dedup-catalogs" }

    func testRemovalThroughPostgreSQLCatalog() async throws {
        let server = try startedServer()
        try server.createDatabase("dedup")
        let catalog = try await CatalogOpener(catalog: server.uri(database: "dedup"),
                                              warehouse: directory.appendingPathComponent("warehouse").path,
                                              environment: server.environment).open(create: true)
        try await removeDuplicates(catalog: catalog, style: .flink)
    }

    func testRemovalThroughRESTCatalog() async throws {
        let rest = try RESTCatalogServer()
        defer { rest.stop() }
        let catalog = try await CatalogOpener(catalog: rest.uri, environment: [:]).open()
        try await removeDuplicates(catalog: catalog, style: .spark)
    }

    /// Partition 0 offsets 0-99, then 50-149 again (a rerun): 50 rows go, each offset is read once.
    func removeDuplicates(catalog: any Catalog, style: BronzeTableStyle) async throws {
        try await catalog.createNamespace(["market_data"], properties: [:])
        let id = TableIdentifier(namespace: ["market_data"], name: style.tableName(exchange: .binance))
        _ = try await catalog.createTable(id, schema: style.schema, spec: style.partitionSpec, sortOrder: .unsorted,
                                          properties: style.properties(exchange: .binance), location: nil)
        let day: Int32 = 20417
        for offsets in [Array(Int64(0)..<100), Array(Int64(50)..<150)] {
            let table = try await catalog.loadTable(id)
            let writer = try DataFileWriter(table: table)
            let n = offsets.count
            try await writer.write([
                ColumnData(.byteArray(ByteArrayValues(offsets.map { Array("trade #\($0)".utf8) }))),
                ColumnData(.byteArray(ByteArrayValues(strings: Array(repeating: BronzeExchange.binance.topic, count: n)))),
                ColumnData(.int32(Array(repeating: 0, count: n))),
                ColumnData(.int64(offsets)),
                ColumnData(.int64(offsets.map { 1_764_028_800_000_000 + $0 * 1000 })),
                ColumnData(.int64(offsets.map { 1_764_028_800_000_000 + $0 * 1000 })),
                ColumnData(.int32(Array(repeating: day, count: n))),
            ], partition: [.date(day)])
            _ = try await FastAppend(catalog: catalog).commit(table: table, files: try await writer.finish())
        }
        let removal = BronzeDuplicateRemoval(catalog: catalog, table: id)
        let result = try await removal.run(cancellation: CancellationSignal(), diagnostics: { XCTFail("unexpected diagnostic: \($0)") })
        XCTAssertEqual(result.rowsRemoved, [0: 50])
        XCTAssertEqual(result.duplicateOffsets, [0: [50...99]])
        XCTAssertEqual(result.deleteFiles.count, 1)
        let table = try await catalog.loadTable(id)
        XCTAssertEqual(table.metadata.snapshots.count, 3)
        XCTAssertEqual(table.metadata.currentSnapshot?.snapshotId, result.snapshotId)
        XCTAssertEqual(table.metadata.currentSnapshot?.summary["operation"], "delete")
        XCTAssertEqual(table.metadata.currentSnapshot?.summary["added-position-deletes"], "50")

        var offsets: [Int64] = []
        let reader = try ScanReader(table: table)
        for task in try await TableScan(table: table).planFiles() {
            let columns = try await reader.read(task, columns: ["offset"])
            guard case .int64(let values) = columns[0].values else { return XCTFail("offset is not a long column") }
            offsets += values
        }
        XCTAssertEqual(offsets.sorted(), Array(0..<150))

        if TestEnvironment.hasPythonCheckers {
            let duck = try ProcessRunner.run(TestEnvironment.python, [
                TestEnvironment.repositoryRoot.appendingPathComponent("scripts/duckdb_iceberg_read.py").path,
                table.metadataLocation, "--columns", "partition,offset"])
            XCTAssertEqual(duck.status, 0, duck.stderrText)
            let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: duck.stdout) as? [String: Any])
            XCTAssertEqual(facts["rows"] as? Int, 150)
            let partitions = facts["partitions"] as? [[String: Any]] ?? []
            XCTAssertEqual(partitions.first?["offsets"] as? [[Int]], [[0, 149]])
            XCTAssertEqual((partitions.first?["duplicates"] as? [Any])?.count, 0)
        }

        let rerun = try await removal.run(cancellation: CancellationSignal(), diagnostics: { XCTFail("unexpected diagnostic: \($0)") })
        XCTAssertNil(rerun.snapshotId)
        XCTAssertEqual(rerun.totalRowsRemoved, 0)
        let after = try await catalog.loadTable(id)
        XCTAssertEqual(after.metadata.snapshots.count, 3)
    }
}
