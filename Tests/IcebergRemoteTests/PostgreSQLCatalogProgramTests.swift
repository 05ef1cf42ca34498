import Foundation
import TestSupport
import XCTest

/// `k2-verify` and `k2-replay` with `--catalog postgresql://...`, the JDBC catalog on a real PostgreSQL
/// server: table pairs that pyiceberg wrote (scripts/verify_fixtures.py with a PostgreSQL catalog URI), and
/// tables k2-replay writes that pyiceberg reads back. The password goes through PGPASSWORD only and is never
/// printed.
final class PostgreSQLCatalogProgramTests: PostgreSQLTestCase {
    override class var temporaryDirectoryPrefix: String? { "verify-pg" }

    static let sides = ["--left", "market_data.bronze_binance_trades", "--right", "market_data.bronze_binance_trades_flink"]

    /// The table pair of `scenario` in a new database; returns the `--catalog` URI (no password).
    private func fixture(_ server: PostgreSQLTestServer, _ scenario: String) throws -> String {
        let database = "verify_\(scenario)"
        try server.createDatabase(database)
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/verify_fixtures.py").path
        let out = directory.appendingPathComponent(scenario).path
        // No password in the URI: libpq (under psycopg2) reads PGPASSWORD, as k2-verify does.
        let result = try ProcessRunner.run(
            TestEnvironment.python,
            [script, out, scenario, "postgresql+psycopg2://\(server.user)@127.0.0.1:\(server.port)/\(database)"],
            environment: server.environment)
        XCTAssertEqual(result.status, 0, result.stderrText)
        XCTAssertEqual(try server.psql("SELECT count(*) FROM iceberg_tables", database: database), "2\n")
        return server.uri(database: database)
    }

    func testCleanPairHasParity() throws {
        let server = try startedServer()
        let catalog = try fixture(server, "clean")
        let run = try ProgramRun.run("k2-verify", ["--catalog", catalog] + Self.sides + ["--payload", "--json"],
                                     environment: server.environment)
        XCTAssertEqual(run.status, 0, run.stderrText + run.stdoutText)
        ProgramRun.assertNoSecrets(run, [server.password])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        XCTAssertEqual(json["parity"] as? Bool, true)
        let partitions = json["partitions"] as? [[String: Any]] ?? []
        XCTAssertEqual(partitions.map { $0["partition"] as? Int }, [0, 1, 2, 3])
        for partition in partitions {
            XCTAssertEqual((partition["left"] as? [String: Any])?["rows"] as? Int, 600)
            XCTAssertEqual((partition["right"] as? [String: Any])?["rows"] as? Int, 600)
            XCTAssertEqual(partition["missing_in_left"] as? [[Int]], [])
            XCTAssertEqual(partition["missing_in_right"] as? [[Int]], [])
        }

        // A read-only role (SELECT on the catalog's tables, no CREATE in the schema, PostgreSQL 15's
        // default) is enough: k2-verify sends no DDL and writes nothing.
        let readerPassword = "rd-" + UUID().uuidString
        _ = try server.psql("""
            CREATE ROLE k2reader LOGIN PASSWORD '\(readerPassword)';
            GRANT SELECT ON iceberg_tables, iceberg_namespace_properties TO k2reader;
            """, database: "verify_clean")
        let reader = "postgresql://k2reader@127.0.0.1:\(server.port)/verify_clean"
        let readOnly = try ProgramRun.run("k2-verify", ["--catalog", reader] + Self.sides + ["--json"],
                                          environment: ["PGPASSWORD": readerPassword])
        XCTAssertEqual(readOnly.status, 0, readOnly.stderrText)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: readOnly.stdout) as? [String: Any])?["parity"] as? Bool, true)
        ProgramRun.assertNoSecrets(readOnly, [readerPassword, server.password])
        // An empty database is not a catalog to check (and k2-verify does not make it one).
        try server.createDatabase("verify_empty")
        let empty = try ProgramRun.run("k2-verify", ["--catalog", server.uri(database: "verify_empty")] + Self.sides,
                                       environment: server.environment)
        XCTAssertEqual(empty.status, 2, empty.stderrText)
        XCTAssertTrue(empty.stderrText.contains("no Iceberg JDBC catalog"), empty.stderrText)
        XCTAssertEqual(try server.psql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database: "verify_empty"), "0\n")
    }

    func testInjectedGapsGiveExitOneAndRanges() throws {
        let server = try startedServer()
        let catalog = try fixture(server, "defects")
        let run = try ProgramRun.run("k2-verify", ["--catalog", catalog] + Self.sides + ["--payload", "--json"],
                                     environment: server.environment)
        XCTAssertEqual(run.status, 1, run.stderrText)
        ProgramRun.assertNoSecrets(run, [server.password])
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        XCTAssertEqual(json["parity"] as? Bool, false)
        let partitions = try XCTUnwrap(json["partitions"] as? [[String: Any]])
        XCTAssertEqual(partitions.map { $0["partition"] as? Int }, [0, 1, 2, 3, 4])
        // The gaps scripts/verify_fixtures.py injects (DEFECTS), exactly.
        let missingLeft = partitions.map { $0["missing_in_left"] as? [[Int]] ?? [[-1]] }
        let missingRight = partitions.map { $0["missing_in_right"] as? [[Int]] ?? [[-1]] }
        XCTAssertEqual(missingLeft, [[[100, 149]], [], [[500, 519]], [], []])
        XCTAssertEqual(missingRight, [[], [[200, 249]], [], [[0, 9]], [[0, 49]]])
        XCTAssertEqual(partitions.map { $0["payload_mismatches"] as? [[Int]] ?? [[-1]] }, [[], [[42, 42]], [], [], []])

        // The text report names the catalog's tables and the ranges too.
        let text = try ProgramRun.run("k2-verify", ["--catalog", catalog] + Self.sides, environment: server.environment)
        XCTAssertEqual(text.status, 1, text.stderrText)
        XCTAssertTrue(text.stdoutText.contains("missing in left: [100, 149]"), text.stdoutText)
        XCTAssertTrue(text.stdoutText.contains("missing in right: [200, 249]"), text.stdoutText)
        ProgramRun.assertNoSecrets(text, [server.password])
    }

    func testWrongOrMisplacedPasswordIsRefusedWithoutPrintingIt() throws {
        let server = try startedServer()
        let catalog = try fixture(server, "auth")
        let wrong = "wrong-" + UUID().uuidString
        let refused = try ProgramRun.run("k2-verify", ["--catalog", catalog] + Self.sides, environment: ["PGPASSWORD": wrong])
        XCTAssertEqual(refused.status, 2, refused.stderrText)
        XCTAssertTrue(refused.stderrText.contains("postgresql://\(server.user)@127.0.0.1:\(server.port)/verify_auth"), refused.stderrText)
        ProgramRun.assertNoSecrets(refused, [wrong, server.password])

        // A password in the URI is refused before any connection, and redacted in the message.
        let inURI = "postgresql://\(server.user):\(server.password)@127.0.0.1:\(server.port)/verify_auth"
        let misplaced = try ProgramRun.run("k2-verify", ["--catalog", inURI] + Self.sides, environment: [:])
        XCTAssertEqual(misplaced.status, 2, misplaced.stderrText)
        XCTAssertTrue(misplaced.stderrText.contains("PGPASSWORD"), misplaced.stderrText)
        ProgramRun.assertNoSecrets(misplaced, [server.password])
        let emptyLog = directory.appendingPathComponent("empty-log")
        try FileManager.default.createDirectory(at: emptyLog, withIntermediateDirectories: true)
        let replay = try ProgramRun.run(
            "k2-replay", ["--from", emptyLog.path, "--to", "iceberg", "--catalog", inURI, "--warehouse", directory.path,
                          "--table", "market_data.x", "--style", "spark"], environment: [:])
        XCTAssertEqual(replay.status, 2, replay.stderrText)
        XCTAssertTrue(replay.stderrText.contains("PGPASSWORD"), replay.stderrText)
        ProgramRun.assertNoSecrets(replay, [server.password])
    }

    func testReplayIntoPostgreSQLCatalogReadByPyicebergThenVerified() throws {
        let server = try startedServer()
        try server.createDatabase("replay_pg")
        let catalog = server.uri(database: "replay_pg")
        let topic = "market.crypto.trades.binance.raw"
        let log = directory.appendingPathComponent("log").path
        let records = try KafkaLogFixture.write(log, topic: topic, perPartition: 40)
        let warehouse = directory.appendingPathComponent("warehouse").path
        for (table, style) in [("market_data.bronze_binance_trades", "spark"), ("market_data.bronze_binance_trades_flink", "flink")] {
            let run = try ProgramRun.run(
                "k2-replay",
                ["--from", log, "--to", "iceberg", "--catalog", catalog, "--warehouse", warehouse, "--table", table,
                 "--style", style, "--create", "--commit-rows", "50", "--json", "--quiet"],
                environment: server.environment)
            XCTAssertEqual(run.status, 0, run.stderrText)
            ProgramRun.assertNoSecrets(run, [server.password])
            XCTAssertEqual((try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])?["rows_committed"] as? Int, 120)
        }
        // psql sees both tables in catalog k2, with their metadata in the warehouse.
        XCTAssertEqual(try server.psql("""
            SELECT catalog_name || ' ' || table_namespace || '.' || table_name || ' ' ||
                   (metadata_location LIKE 'file://\(warehouse)/market_data/%')::text
            FROM iceberg_tables ORDER BY table_name
            """, database: "replay_pg"), """
            k2 market_data.bronze_binance_trades true
            k2 market_data.bronze_binance_trades_flink true

            """)
        // pyiceberg, through psycopg2 on the same database, reads every (partition, offset) with its value.
        let expected = records.mapValues { $0.hex }
        let expectedJSON = String(decoding: try JSONSerialization.data(withJSONObject: expected, options: .sortedKeys), as: UTF8.self)
        for table in ["market_data.bronze_binance_trades", "market_data.bronze_binance_trades_flink"] {
            let answer = try RemoteFixtures.pyiceberg(
                """
                t = cat.load_table(sys.argv[3])
                a = t.scan().to_arrow()
                got = {f"{p}:{o}": r.hex() for p, o, r in zip(a.column("partition").to_pylist(),
                       a.column("offset").to_pylist(), a.column("raw_bytes").to_pylist())}
                assert a.num_rows == len(got), "duplicate (partition, offset)"
                print(json.dumps(got == json.loads(sys.argv[4])), a.num_rows)
                """,
                catalogURI: "postgresql+psycopg2://\(server.user)@127.0.0.1:\(server.port)/replay_pg",
                warehouse: "file://" + warehouse, args: [table, expectedJSON], environment: server.environment)
            XCTAssertEqual(answer, "true 120", table)
        }
        let verify = try ProgramRun.run("k2-verify", ["--catalog", catalog] + Self.sides + ["--payload", "--json"],
                                        environment: server.environment)
        XCTAssertEqual(verify.status, 0, verify.stderrText + verify.stdoutText)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: verify.stdout) as? [String: Any])?["parity"] as? Bool, true)
        ProgramRun.assertNoSecrets(verify, [server.password])
    }
}
