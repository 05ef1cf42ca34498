import Foundation
import TestSupport
import XCTest

/// The base of the replay-into-Bronze tests: a fresh directory per test holding the segment log (`log`), a
/// SQLite catalog (`database`) and a local warehouse (`warehouse`); skipped without the checker venv.
class BronzeTableTestCase: XCTestCase {
    /// The name of the per-test directory, shown in its path.
    class var directoryPrefix: String { "bronze" }

    private(set) var directory: URL!
    var log: String { directory.appendingPathComponent("log").path }
    var database: String { directory.appendingPathComponent("catalog.db").path }
    var warehouse: String { "file://" + directory.appendingPathComponent("warehouse").path }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        directory = try TestEnvironment.temporaryDirectory(type(of: self).directoryPrefix)
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        try super.tearDownWithError()
    }
}
