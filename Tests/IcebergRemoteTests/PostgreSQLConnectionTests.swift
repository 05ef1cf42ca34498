import Foundation
import TestSupport
import XCTest

@testable import Iceberg

/// PostgreSQLConnection against a real PostgreSQL 15 server started for this class, with psql as the
/// independent client that checks what we wrote.
final class PostgreSQLConnectionTests: PostgreSQLTestCase {
    func testPlaceholderRewriting() {
        let (sql, count) = PostgreSQLConnection.rewritePlaceholders(
            "SELECT '?', \"a?\" FROM t -- what?\nWHERE x = ? AND y = 'it''s ?' /* ? */ AND z = ?")
        XCTAssertEqual(sql, "SELECT '?', \"a?\" FROM t -- what?\nWHERE x = $1 AND y = 'it''s ?' /* ? */ AND z = $2")
        XCTAssertEqual(count, 2)
        XCTAssertThrowsError(try PostgreSQLConnection.makeQuery("SELECT ?", []))
    }

    func testURIParsingKeepsThePasswordOut() throws {
        let (endpoint, password) = try PostgreSQLEndpoint.parse("postgresql://iceberg:s%40cret@db.local:6543/catalog?sslmode=require")
        XCTAssertEqual(endpoint, PostgreSQLEndpoint(user: "iceberg", host: "db.local", port: 6543, database: "catalog", sslMode: .require))
        XCTAssertEqual(password, "s@cret")
        XCTAssertEqual("\(endpoint)", "postgresql://iceberg@db.local:6543/catalog")
        XCTAssertFalse(PostgreSQLEndpoint.redacted("postgresql://iceberg:s%40cret@db.local/c").contains("cret"))
        let (defaults, none) = try PostgreSQLEndpoint.parse("postgres://h", environment: [:])
        XCTAssertEqual(defaults, PostgreSQLEndpoint(user: "postgres", host: "h", port: 5432, database: "postgres", sslMode: .disable))
        XCTAssertNil(none)
        XCTAssertThrowsError(try PostgreSQLEndpoint.parse("mysql://h/db"))
    }

    func testStatementsRoundTripThroughPsql() async throws {
        let server = try startedServer()
        try server.createDatabase("roundtrip")
        let connection = try PostgreSQLConnection(uri: server.uri(database: "roundtrip"), environment: server.environment)
        defer { Task { await connection.close() } }
        XCTAssertEqual(connection.dialect, .postgresql)

        try await connection.execute(
            "CREATE TABLE iceberg_tables (catalog_name VARCHAR(255) NOT NULL, table_namespace VARCHAR(255) NOT NULL, "
                + "table_name VARCHAR(255) NOT NULL, metadata_location VARCHAR(1000), previous_metadata_location VARCHAR(1000), "
                + "PRIMARY KEY (catalog_name, table_namespace, table_name))", [])
        let inserted = try await connection.execute(
            "INSERT INTO iceberg_tables VALUES (?, ?, ?, ?, ?)",
            [.text("k2"), .text("market_data"), .text("bronze ' ?"), .text("s3://warehouse/m/v1.metadata.json"), .null])
        XCTAssertEqual(inserted, 1)

        let rows = try await connection.query(
            "SELECT table_name AS \"Table_Name\", metadata_location, previous_metadata_location, 42::bigint AS answer, "
                + "7::int AS small FROM iceberg_tables WHERE catalog_name = ?", [.text("k2")])
        XCTAssertEqual(rows, [[
            "table_name": .text("bronze ' ?"), "metadata_location": .text("s3://warehouse/m/v1.metadata.json"),
            "previous_metadata_location": .null, "answer": .integer(42), "small": .integer(7),
        ]])

        // Compare-and-swap: the first update sees the expected location and changes one row; the second,
        // still expecting the old location, changes none.
        let cas = "UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ? "
            + "WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?"
        let first = try await connection.execute(cas, [
            .text("s3://warehouse/m/v2.metadata.json"), .text("s3://warehouse/m/v1.metadata.json"),
            .text("k2"), .text("market_data"), .text("bronze ' ?"), .text("s3://warehouse/m/v1.metadata.json"),
        ])
        let second = try await connection.execute(cas, [
            .text("s3://warehouse/m/v2b.metadata.json"), .text("s3://warehouse/m/v1.metadata.json"),
            .text("k2"), .text("market_data"), .text("bronze ' ?"), .text("s3://warehouse/m/v1.metadata.json"),
        ])
        XCTAssertEqual(first, 1)
        XCTAssertEqual(second, 0)

        XCTAssertEqual(
            try server.psql("SELECT table_name, metadata_location, previous_metadata_location FROM iceberg_tables", database: "roundtrip"),
            "bronze ' ?|s3://warehouse/m/v2.metadata.json|s3://warehouse/m/v1.metadata.json\n")
    }

    func testServerErrorNamesTheStatementNotTheParameters() async throws {
        let server = try startedServer()
        let connection = try PostgreSQLConnection(uri: server.uri(), environment: server.environment)
        defer { Task { await connection.close() } }
        do {
            _ = try await connection.query("SELECT * FROM no_such_table WHERE x = ?", [.text("secret-parameter")])
            XCTFail("query of a missing table succeeded")
        } catch let error as SQLError {
            XCTAssertTrue(error.message.contains("no_such_table"), error.message)
            XCTAssertTrue(error.message.contains("42P01"), error.message)
            XCTAssertEqual(error.statement, "SELECT * FROM no_such_table WHERE x = ?")
            XCTAssertFalse(error.description.contains("secret-parameter"))
        }
    }

    func testWrongPasswordFailsWithoutShowingIt() async throws {
        let server = try startedServer()
        // The URI's password is used only when PGPASSWORD is not set.
        let uriWithPassword = "postgresql://\(server.user):wrong-password@127.0.0.1:\(server.port)/postgres"
        let good = try PostgreSQLConnection(uri: uriWithPassword, environment: server.environment)
        let one = try await good.query("SELECT 1 AS one", [])
        XCTAssertEqual(one, [["one": .integer(1)]])
        await good.close()

        let bad = try PostgreSQLConnection(uri: uriWithPassword, environment: [:])
        do {
            _ = try await bad.query("SELECT 1", [])
            XCTFail("connected with a wrong password")
        } catch let error as SQLError {
            XCTAssertTrue(error.message.contains("password authentication failed"), error.message)
            XCTAssertFalse(error.description.contains("wrong-password"))
        }
    }
}
