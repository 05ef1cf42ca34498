import Foundation
import TestSupport
import XCTest

/// A throw-away PostgreSQL cluster started by `scripts/pg-test-server.sh` for one test class, on
/// 127.0.0.1 with password authentication; stopped and removed by `stop()`.
final class PostgreSQLTestServer: @unchecked Sendable {
    let directory: URL
    let port: Int
    let user: String
    let password: String

    private static var script: String {
        TestEnvironment.repositoryRoot.appendingPathComponent("scripts/pg-test-server.sh").path
    }

    init() throws {
        guard FileManager.default.fileExists(atPath: "/usr/lib/postgresql") else {
            throw XCTSkip("PostgreSQL server binaries not installed (apt-get install postgresql)")
        }
        // Under /tmp with default permissions, so the `postgres` user can reach it when tests run as root.
        directory = URL(fileURLWithPath: "/tmp/k2-pgtest-\(UUID().uuidString)")
        let result = try ChildProcess.run("/bin/bash", [Self.script, "start", directory.path])
        // The script's last line is "PORT USER PASSWORD"; anything a tool said on stderr comes before it.
        let last = result.output.split(separator: "\n").last.map(String.init) ?? ""
        let fields = last.split(separator: " ").map(String.init)
        guard result.status == 0, fields.count == 3, let port = Int(fields[0]) else {
            throw NSError(domain: "pg-test-server", code: Int(result.status),
                          userInfo: [NSLocalizedDescriptionKey: "could not start PostgreSQL: \(result.output)"])
        }
        self.port = port
        user = fields[1]
        password = fields[2]
    }

    /// The catalog URI (no password: that goes through PGPASSWORD).
    func uri(database: String = "postgres") -> String { "postgresql://\(user)@127.0.0.1:\(port)/\(database)" }

    var environment: [String: String] { ["PGPASSWORD": password] }

    /// Creates a database for one test.
    func createDatabase(_ name: String) throws {
        let result = try ChildProcess.run(
            "/usr/lib/postgresql/15/bin/psql",
            ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", "postgres", "-v", "ON_ERROR_STOP=1",
             "-c", "CREATE DATABASE \(name)"],
            environment: environment)
        XCTAssertEqual(result.status, 0, result.output)
    }

    /// Runs SQL with psql (an independent client) and returns its unaligned, tuples-only output.
    func psql(_ sql: String, database: String = "postgres") throws -> String {
        let result = try ChildProcess.run(
            "/usr/lib/postgresql/15/bin/psql",
            ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1",
             "-A", "-t", "-q", "-c", sql],
            environment: environment)
        XCTAssertEqual(result.status, 0, result.output)
        return result.output
    }

    func stop() {
        _ = try? ChildProcess.run("/bin/bash", [Self.script, "stop", directory.path])
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
