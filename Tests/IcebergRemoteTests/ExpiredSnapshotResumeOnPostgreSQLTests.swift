import Foundation
import TestSupport
import XCTest

/// The JDBC catalog on PostgreSQL keeps a replay's progress through snapshot expiry as the SQLite one does:
/// the same commits set the `k2.replay.<run-id>.*` properties (ExpiredSnapshotResumeScenario).
final class ExpiredSnapshotResumeOnPostgreSQLTests: PostgreSQLTestCase {
    override class var temporaryDirectoryPrefix: String? { "replay-pg-expire" }

    func testRerunAfterSnapshotsExpiredWritesEachRecordOnce() throws {
        let server = try startedServer()
        try server.createDatabase("replay_expire")
        let warehouse = directory.appendingPathComponent("warehouse").path
        try ExpiredSnapshotResumeScenario(
            catalogArguments: ["--catalog", server.uri(database: "replay_expire"), "--warehouse", warehouse],
            sqlAlchemyURI: "postgresql+psycopg2://\(server.user)@127.0.0.1:\(server.port)/replay_expire",
            warehousePath: warehouse, environment: server.environment, secrets: [server.password], directory: directory).run()
    }
}
