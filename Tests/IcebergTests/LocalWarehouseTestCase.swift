import Foundation
import TestSupport
import XCTest

/// The base of the tests that write a table and have pyiceberg/pyarrow read it back: a fresh directory per
/// test holding a SQLite catalog (`database`) and a local warehouse (`warehouse`); skipped without the
/// checker venv.
class LocalWarehouseTestCase: XCTestCase {
    private(set) var directory: URL!
    var database: String { directory.appendingPathComponent("catalog.db").path }
    var warehouse: String { "file://" + directory.appendingPathComponent("warehouse").path }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        directory = try TestEnvironment.temporaryDirectory("iceberg")
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
        try super.tearDownWithError()
    }
}
