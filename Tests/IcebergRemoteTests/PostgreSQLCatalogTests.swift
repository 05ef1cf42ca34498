import Foundation
import Iceberg
import TestSupport
import XCTest

/// SQLCatalog on a real PostgreSQL 15 server (started for this class): the JDBC catalog tables, a table
/// created, appended to and read back by pyiceberg's SqlCatalog over psycopg2, and two concurrent writers.
final class PostgreSQLCatalogTests: PostgreSQLTestCase {
    override class var temporaryDirectoryPrefix: String? { "pgcatalog" }

    private var warehouse: String { "file://" + directory.appendingPathComponent("warehouse").path }

    /// A fresh database and a catalog on it, through its own connection.
    private func openCatalog(_ server: PostgreSQLTestServer, database: String) async throws -> SQLCatalog {
        let connection = try PostgreSQLConnection(uri: server.uri(database: database), environment: server.environment)
        return try await SQLCatalog.open(connection: connection, name: "k2", warehouse: warehouse, io: LocalFileIO())
    }

    private func pyicebergURI(_ server: PostgreSQLTestServer, database: String) -> String {
        // No password in the URI: libpq (under psycopg2) takes it from PGPASSWORD.
        "postgresql+psycopg2://\(server.user)@127.0.0.1:\(server.port)/\(database)"
    }

    func testJDBCCatalogTablesAreCreated() async throws {
        let server = try startedServer()
        try server.createDatabase("jdbc_tables")
        _ = try await openCatalog(server, database: "jdbc_tables")
        let columns = try server.psql("""
            SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
            FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position
            """, database: "jdbc_tables")
        XCTAssertEqual(columns, """
            iceberg_namespace_properties.catalog_name:character varying:NO
            iceberg_namespace_properties.namespace:character varying:NO
            iceberg_namespace_properties.property_key:character varying:NO
            iceberg_namespace_properties.property_value:character varying:NO
            iceberg_tables.catalog_name:character varying:NO
            iceberg_tables.table_namespace:character varying:NO
            iceberg_tables.table_name:character varying:NO
            iceberg_tables.metadata_location:character varying:YES
            iceberg_tables.previous_metadata_location:character varying:YES
            iceberg_tables.iceberg_type:character varying:YES

            """)
        // Opening again finds the tables in place (CREATE TABLE IF NOT EXISTS) and keeps their rows.
        _ = try await openCatalog(server, database: "jdbc_tables")
    }

    func testTableCreatedOnPostgreSQLIsLoadableAndReadByPyiceberg() async throws {
        let server = try startedServer()
        try server.createDatabase("roundtrip_catalog")
        let catalog = try await openCatalog(server, database: "roundtrip_catalog")
        try await catalog.createNamespace(["market_data"], properties: [:])
        var table = try await catalog.createTable(
            RemoteFixtures.table, schema: RemoteFixtures.schema(), spec: .unpartitioned, sortOrder: .unsorted,
            properties: RemoteFixtures.properties, location: nil)
        table = try await RemoteFixtures.append(0..<300, writer: "swift", to: table, catalog: catalog)

        // Loadable through another connection, at the location PostgreSQL holds.
        let other = try await openCatalog(server, database: "roundtrip_catalog")
        let loaded = try await other.loadTable(RemoteFixtures.table)
        XCTAssertEqual(loaded.metadataLocation, table.metadataLocation)
        XCTAssertEqual(loaded.metadata.currentSnapshotId, table.metadata.currentSnapshotId)
        let tables = try await other.listTables(namespace: ["market_data"])
        XCTAssertEqual(tables, [RemoteFixtures.table])
        XCTAssertEqual(
            try server.psql("SELECT catalog_name, table_namespace, table_name, metadata_location FROM iceberg_tables",
                            database: "roundtrip_catalog"),
            "k2|market_data|trades|\(table.metadataLocation)\n")

        let expected = Dictionary(uniqueKeysWithValues: (Int64(0)..<300).map { ($0, "swift") })
        let summary = try RemoteFixtures.pyiceberg(
            RemoteFixtures.pythonCheckRows, catalogURI: pyicebergURI(server, database: "roundtrip_catalog"),
            warehouse: warehouse, args: ["market_data.trades", RemoteFixtures.expectedJSON(expected)],
            environment: server.environment)
        XCTAssertEqual(summary, #"{"rows": 300, "snapshots": 1, "chain": 1, "total": "300"}"#)
    }

    /// Two writers, each with its own connection and catalog, append to one table at the same time. Every
    /// append must succeed (the loser of a compare-and-swap reloads and retries) and no snapshot may be
    /// lost: the current snapshot's ancestry holds all of them, and pyiceberg reads every row.
    func testTwoConcurrentWritersBothSucceedAndNoSnapshotIsLost() async throws {
        let server = try startedServer()
        try server.createDatabase("concurrent_writers")
        let setup = try await openCatalog(server, database: "concurrent_writers")
        try await setup.createNamespace(["market_data"], properties: [:])
        _ = try await setup.createTable(
            RemoteFixtures.table, schema: RemoteFixtures.schema(), spec: .unpartitioned, sortOrder: .unsorted,
            properties: RemoteFixtures.properties, location: nil)

        let appendsPerWriter = 6
        let rowsPerAppend: Int64 = 50
        let writerA = try await openCatalog(server, database: "concurrent_writers")
        let writerB = try await openCatalog(server, database: "concurrent_writers")
        @Sendable func run(_ catalog: SQLCatalog, name: String, base: Int64) async throws -> Int {
            var table = try await catalog.loadTable(RemoteFixtures.table)
            for i in 0..<appendsPerWriter {
                let first = base + Int64(i) * rowsPerAppend
                // The table handle may be stale (the other writer moved on): FastAppend must cope.
                table = try await RemoteFixtures.append(first..<first + rowsPerAppend, writer: name, to: table, catalog: catalog)
            }
            return appendsPerWriter
        }
        async let a = run(writerA, name: "a", base: 0)
        async let b = run(writerB, name: "b", base: 100_000)
        let done = try await a + b
        XCTAssertEqual(done, 2 * appendsPerWriter)

        let final = try await setup.loadTable(RemoteFixtures.table)
        XCTAssertEqual(final.metadata.snapshots.count, 2 * appendsPerWriter)
        var ancestry = 0
        var cursor = final.metadata.currentSnapshot
        while let snapshot = cursor {
            ancestry += 1
            cursor = snapshot.parentSnapshotId.flatMap { final.metadata.snapshot(id: $0) }
        }
        XCTAssertEqual(ancestry, 2 * appendsPerWriter, "every snapshot is on the current snapshot's ancestry")
        let writers = final.metadata.snapshots.compactMap { $0.summary["k2.test.writer"] }
        XCTAssertEqual(writers.filter { $0 == "a" }.count, appendsPerWriter)
        XCTAssertEqual(writers.filter { $0 == "b" }.count, appendsPerWriter)

        var expected: [Int64: String] = [:]
        for i in 0..<Int64(appendsPerWriter) * rowsPerAppend {
            expected[i] = "a"
            expected[100_000 + i] = "b"
        }
        let summary = try RemoteFixtures.pyiceberg(
            RemoteFixtures.pythonCheckRows, catalogURI: pyicebergURI(server, database: "concurrent_writers"),
            warehouse: warehouse, args: ["market_data.trades", RemoteFixtures.expectedJSON(expected)],
            environment: server.environment)
        let total = 2 * appendsPerWriter * Int(rowsPerAppend)
        XCTAssertEqual(summary, #"{"rows": \#(total), "snapshots": 12, "chain": 12, "total": "\#(total)"}"#)
    }
}
