import Foundation
import TestSupport
import XCTest

/// `scripts/rest_catalog_server.py` on loopback: the Iceberg REST API over pyiceberg's SqlCatalog on a
/// SQLite file in `directory`, which the tests then read with pyiceberg directly.
final class RESTCatalogServer: @unchecked Sendable {
    let process: BackgroundProcess
    let directory: URL
    let uri: String
    var database: String { directory.appendingPathComponent("catalog.db").path }
    let warehouse: String
    var sqlAlchemyURI: String { "sqlite:///" + database }

    /// - Parameters:
    ///   - warehouse: where the server's SqlCatalog places tables (default: a directory of its own).
    ///   - properties: extra SqlCatalog properties (`s3.endpoint`, ...); never secrets, which go through
    ///     `environment`.
    ///   - unknownOutcomeCommits: commit numbers (1-based) the server applies and then answers with 503, so the
    ///     client cannot tell whether they landed (a fault injected for tests).
    ///   - conflictEveryCommit: another writer changes the table before each commit's first try, which is
    ///     answered 409 (every commit conflicts once).
    init(prefix: String? = nil, basePath: String? = nil, warehouse: String? = nil, properties: [String: String] = [:],
         environment: [String: String] = [:], unknownOutcomeCommits: [Int] = [], conflictEveryCommit: Bool = false) throws {
        guard TestEnvironment.hasPythonCheckers else { throw XCTSkip("checker venv missing: run scripts/setup.sh") }
        directory = try TestEnvironment.temporaryDirectory("restcatalog")
        self.warehouse = warehouse ?? "file://" + directory.appendingPathComponent("warehouse").path
        var arguments = [
            TestEnvironment.repositoryRoot.appendingPathComponent("scripts/rest_catalog_server.py").path,
            "--catalog-uri", "sqlite:///" + directory.appendingPathComponent("catalog.db").path,
            "--warehouse", self.warehouse,
        ]
        if let prefix { arguments += ["--prefix", prefix] }
        if let basePath { arguments += ["--base-path", basePath] }
        for commit in unknownOutcomeCommits { arguments += ["--unknown-outcome-commit", String(commit)] }
        if conflictEveryCommit { arguments.append("--conflict-every-commit") }
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) { arguments += ["--property", "\(key)=\(value)"] }
        process = try BackgroundProcess(
            TestEnvironment.python, arguments, environment: environment,
            logFile: directory.appendingPathComponent("server.log"))
        guard let port = process.firstLine() else {
            throw NSError(domain: "rest-catalog", code: 1,
                          userInfo: [NSLocalizedDescriptionKey: "REST catalog server did not start: \(process.log)"])
        }
        uri = "rest:http://127.0.0.1:\(port)" + (basePath ?? "")
    }

    func stop() {
        process.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
