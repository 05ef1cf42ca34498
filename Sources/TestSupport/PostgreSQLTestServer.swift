import Foundation

/// A throw-away PostgreSQL cluster started by `scripts/pg-test-server.sh`, on 127.0.0.1 with password
/// authentication; stopped and removed by `stop()` (or when released).
public final class PostgreSQLTestServer: @unchecked Sendable {
    public let directory: URL
    public let port: Int
    public let user: String
    public let password: String

    private static var script: String {
        TestEnvironment.repositoryRoot.appendingPathComponent("scripts/pg-test-server.sh").path
    }

    /// Debian's psql, whatever the server version.
    public static var psqlPath: String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted().reversed()
        return versions.map { "\(root)/\($0)/bin/psql" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Whether Debian's PostgreSQL server is installed (tests skip without it).
    public static var isAvailable: Bool { psqlPath != nil }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public init() throws {
        guard Self.isAvailable else { throw Failure(description: "PostgreSQL server binaries not installed (apt-get install postgresql)") }
        // Under /tmp with default permissions, so the `postgres` user can reach it when tests run as root.
        directory = URL(fileURLWithPath: "/tmp/k2-pgtest-\(UUID().uuidString)")
        let result = try ChildProcess.run("/bin/bash", [Self.script, "start", directory.path])
        // The script's last line is "PORT USER PASSWORD"; anything a tool said on stderr comes apart from it.
        let last = result.stdout.split(separator: "\n").last.map(String.init) ?? ""
        let fields = last.split(separator: " ").map(String.init)
        guard result.status == 0, fields.count == 3, let port = Int(fields[0]) else {
            throw Failure(description: "could not start PostgreSQL: \(result.output)")
        }
        self.port = port
        user = fields[1]
        password = fields[2]
    }

    /// The catalog URI (no password: that goes through PGPASSWORD).
    public func uri(database: String = "postgres") -> String { "postgresql://\(user)@127.0.0.1:\(port)/\(database)" }

    public var environment: [String: String] { ["PGPASSWORD": password] }

    /// Creates a database for one test.
    public func createDatabase(_ name: String) throws {
        _ = try psql("CREATE DATABASE \(name)")
    }

    /// Runs SQL with psql (an independent client) and returns its unaligned, tuples-only output.
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        let result = try ChildProcess.run(
            Self.psqlPath!,
            ["-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-A", "-t", "-q", "-c", sql],
            environment: environment)
        guard result.status == 0 else { throw Failure(description: "psql \(sql): \(result.output)") }
        return result.stdout
    }

    public func stop() {
        _ = try? ChildProcess.run("/bin/bash", [Self.script, "stop", directory.path])
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
