import Foundation
import TestSupport
import XCTest

/// Through a REST catalog the replay's progress travels as a `set-properties` update in the same commit as
/// its snapshot: after a killed replay, an unrelated append and the expiry of every other snapshot
/// (pyiceberg, on the catalog behind the server), a rerun through REST continues where the run stopped.
final class ExpiredSnapshotResumeThroughRESTTests: XCTestCase {
    private var server: RESTCatalogServer?
    private var directory: URL!

    override func setUpWithError() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        directory = try TestEnvironment.temporaryDirectory("replay-rest-expire")
    }

    override func tearDown() {
        server?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func testRerunThroughRESTAfterSnapshotsExpiredWritesEachRecordOnce() throws {
        let server = try RESTCatalogServer()
        self.server = server
        let warehouse = server.warehouse.hasPrefix("file://") ? String(server.warehouse.dropFirst("file://".count)) : server.warehouse
        try ExpiredSnapshotResumeScenario(catalogArguments: ["--catalog", server.uri], sqlAlchemyURI: server.sqlAlchemyURI,
                                          warehousePath: warehouse, directory: directory).run()
    }
}
