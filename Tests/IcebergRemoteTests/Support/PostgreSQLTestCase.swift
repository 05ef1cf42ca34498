import Foundation
import TestSupport
import XCTest

/// The base of the test classes that talk to a real PostgreSQL server: one server per class, started on
/// first use (a class whose tests all skip starts none) and stopped after the class; with a
/// `temporaryDirectoryPrefix`, a fresh directory per test and the checker venv required.
class PostgreSQLTestCase: XCTestCase {
    nonisolated(unsafe) private static var server: PostgreSQLTestServer?

    /// A per-test directory (`directory`) under this prefix; nil: none, and no venv needed.
    class var temporaryDirectoryPrefix: String? { nil }

    private(set) var directory: URL!

    override class func tearDown() {
        server?.stop()
        server = nil
        super.tearDown()
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard let prefix = type(of: self).temporaryDirectoryPrefix else { return }
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        directory = try TestEnvironment.temporaryDirectory(prefix)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        try super.tearDownWithError()
    }

    /// The class's server, started now if this is the first test to need it.
    func startedServer() throws -> PostgreSQLTestServer {
        if let server = Self.server { return server }
        try XCTSkipUnless(PostgreSQLTestServer.isAvailable, "PostgreSQL server binaries not installed (apt-get install postgresql)")
        let server = try PostgreSQLTestServer()
        Self.server = server
        return server
    }
}
