import Foundation
import TestSupport
import XCTest

/// `k2-replay --to iceberg` while its peers misbehave: S3 answering 500 and 503 and dropping connections
/// (mid-upload, and after applying a request without answering it), and a catalog where another writer
/// commits before every one of ours. pyiceberg then reads the table independently: every record once.
final class IcebergWriteFaultTests: XCTestCase {
    static let topic = "market.crypto.trades.binance.raw"
    static let table = "market_data.bronze_binance_trades"

    private var stops: [() -> Void] = []
    private var directory: URL!

    override func setUpWithError() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        directory = try TestEnvironment.temporaryDirectory("iceberg-faults")
    }

    override func tearDown() {
        for stop in stops.reversed() { stop() }
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Rows "partition:offset" → raw bytes (hex) as pyiceberg reads them, failing on a key seen twice.
    private func rowsOnce(_ output: Data, file: StaticString = #filePath, line: UInt = #line) throws -> (rows: [String: String], json: [String: Any]) {
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: output) as? [String: Any], file: file, line: line)
        var rows: [String: String] = [:]
        for row in json["rows"] as? [[Any]] ?? [] {
            let key = "\(row[0] as? Int ?? -1):\(row[1] as? Int ?? -1)"
            XCTAssertNil(rows[key], "\(key) twice", file: file, line: line)
            rows[key] = row[2] as? String
        }
        return (rows, json)
    }

    /// Every commit conflicts once (the REST server lets another writer change the table first and answers
    /// 409): k2-replay retries each, keeps the other writer's change, and writes every record once.
    func testCommitConflictOnEveryCommitWritesEachRecordOnce() throws {
        let server = try RESTCatalogServer(conflictEveryCommit: true)
        stops.append(server.stop)
        let log = directory.appendingPathComponent("log").path
        let records = try KafkaLogFixture.write(log, topic: Self.topic, perPartition: 70)
        let run = try ProgramRun.run(
            "k2-replay",
            ["--from", log, "--to", "iceberg", "--catalog", server.uri, "--table", Self.table, "--style", "spark",
             "--create", "--commit-rows", "40", "--json", "--quiet"], environment: [:])
        XCTAssertEqual(run.status, 0, run.stderrText)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: run.stdout) as? [String: Any], run.stdoutText)
        XCTAssertEqual(summary["rows_committed"] as? Int, 210, run.stdoutText)
        let commits = try XCTUnwrap(summary["commits"] as? Int, run.stdoutText)
        XCTAssertEqual(commits, 6, "210 rows by 40")
        XCTAssertEqual(server.process.log.components(separatedBy: "\" 409 ").count - 1, commits, "one conflict per commit: \(server.process.log.suffix(3000))")

        let script = """
            import sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            t = SqlCatalog("k2", uri=sys.argv[1], warehouse=sys.argv[2]).load_table(sys.argv[3])
            a = t.scan().to_arrow()
            print(json.dumps({
                "snapshots": len(t.snapshots()),
                "concurrent": t.properties.get("k2.test.concurrent-writer"),
                "rows": [[p, o, r.hex()] for p, o, r in zip(a.column("partition").to_pylist(),
                         a.column("offset").to_pylist(), a.column("raw_bytes").to_pylist())]}))
            """
        let back = try ProcessRunner.run(TestEnvironment.python, ["-c", script, server.sqlAlchemyURI, server.warehouse, Self.table])
        XCTAssertEqual(back.status, 0, back.stderrText)
        let (rows, json) = try rowsOnce(back.stdout)
        XCTAssertEqual(json["snapshots"] as? Int, commits)
        XCTAssertEqual(json["concurrent"] as? String, String(commits), "the other writer's last change is kept")
        XCTAssertEqual(Set(rows.keys), Set(records.keys))
        for (key, record) in records { XCTAssertEqual(rows[key], record.hex, key) }
    }

    /// S3 behind a proxy that fails the first try of every distinct request in turn with 500, 503, a
    /// connection dropped mid-upload, and a connection dropped after S3 applied the request. The replay
    /// (SQLite catalog, S3 warehouse) finishes, and pyiceberg reads every record once from moto itself.
    func testS3ErrorsAndDroppedConnectionsWriteEachRecordOnce() throws {
        let moto = try MotoS3()
        stops.append(moto.stop)
        try moto.createBucket("warehouse")
        let proxy = try BackgroundProcess(
            TestEnvironment.python,
            [TestEnvironment.repositoryRoot.appendingPathComponent("scripts/flaky_s3_proxy.py").path, moto.endpoint,
             "--faults", "500,503,drop-mid-body,drop-after-forward"],
            logFile: directory.appendingPathComponent("proxy.log"))
        stops.append(proxy.stop)
        guard let port = proxy.firstLine() else { return XCTFail("proxy did not start: \(proxy.log)") }

        let log = directory.appendingPathComponent("log").path
        let records = try KafkaLogFixture.write(log, topic: Self.topic, perPartition: 70)
        let catalog = directory.appendingPathComponent("catalog.db").path
        let aws = ["AWS_ACCESS_KEY_ID": moto.credentials.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.credentials.secretAccessKey,
                   "AWS_REGION": "us-east-1"]
        let run = try ProgramRun.run(
            "k2-replay",
            ["--from", log, "--to", "iceberg", "--catalog", "sqlite:" + catalog, "--warehouse", "s3://warehouse",
             "--s3-endpoint", "http://127.0.0.1:\(port)", "--table", Self.table, "--style", "spark", "--create",
             "--commit-rows", "50", "--json", "--quiet"], environment: aws)
        XCTAssertEqual(run.status, 0, run.stderrText)
        ProgramRun.assertNoSecrets(run, [moto.credentials.secretAccessKey])
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: run.stdout) as? [String: Any], run.stdoutText)
        XCTAssertEqual(summary["rows_committed"] as? Int, 210, run.stdoutText)
        let injected = proxy.log.split(separator: "\n").filter { $0.hasPrefix("injected ") }
        for fault in ["500", "503", "drop-mid-body", "drop-after-forward"] {
            XCTAssertTrue(injected.contains { $0.hasPrefix("injected \(fault) ") }, "\(fault) was injected: \(proxy.log)")
        }
        XCTAssertTrue(injected.contains { $0.hasPrefix("injected drop-mid-body PUT ") }, "an upload was cut off: \(proxy.log)")

        let script = """
            import os, sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            cat = SqlCatalog("k2", uri=sys.argv[1], warehouse="s3://warehouse", **{
                "s3.endpoint": os.environ["K2_S3_ENDPOINT"], "s3.region": "us-east-1",
                "s3.force-virtual-addressing": "false"})
            t = cat.load_table(sys.argv[2])
            a = t.scan().to_arrow()
            print(json.dumps({
                "snapshots": len(t.snapshots()),
                "rows": [[p, o, r.hex()] for p, o, r in zip(a.column("partition").to_pylist(),
                         a.column("offset").to_pylist(), a.column("raw_bytes").to_pylist())]}))
            """
        let back = try ProcessRunner.run(TestEnvironment.python, ["-c", script, "sqlite:///" + catalog, Self.table],
                                         environment: moto.checkerEnvironment)
        XCTAssertEqual(back.status, 0, back.stderrText)
        let (rows, json) = try rowsOnce(back.stdout)
        XCTAssertEqual(json["snapshots"] as? Int, summary["commits"] as? Int)
        XCTAssertEqual(Set(rows.keys), Set(records.keys))
        for (key, record) in records { XCTAssertEqual(rows[key], record.hex, key) }
    }
}
