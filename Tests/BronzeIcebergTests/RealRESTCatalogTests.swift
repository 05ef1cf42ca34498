import Foundation
import Kafka
import TestSupport
import XCTest

/// `k2-replay` and `k2-verify` through a real Iceberg REST catalog and S3 server (SeaweedFS `weed mini`, from
/// the checker venv), with OAuth2 client credentials and with SigV4-signed catalog requests; what they
/// write is read back by pyiceberg (its own REST client) and by duckdb's iceberg extension.
final class RealRESTCatalogTests: BronzeTableTestCase {
    override class var directoryPrefix: String { "bronze-seaweed" }

    struct Server {
        let process: BackgroundProcess
        let rest: String
        let s3: String
        let environment: [String: String]
    }

    static let credentials = ["AWS_ACCESS_KEY_ID": "k2seaweedtest", "AWS_SECRET_ACCESS_KEY": "k2-seaweed-secret-0123456789"]

    /// Starts `scripts/seaweed_server.py` and waits for its line of JSON (both endpoints answer by then).
    func startServer() throws -> Server {
        let weed = TestEnvironment.repositoryRoot.appendingPathComponent(".venv/bin/weed").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: weed), "SeaweedFS missing (run scripts/setup.sh)")
        let server = try BackgroundProcess(TestEnvironment.python,
            [TestEnvironment.repositoryRoot.appendingPathComponent("scripts/seaweed_server.py").path,
             "--dir", directory.appendingPathComponent("seaweed").path, "--ignore-stdin"],
            environment: Self.credentials)
        addTeardownBlock { server.stop() }
        let line = Data(try XCTUnwrap(server.firstLine(seconds: 180), server.log).utf8)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: line) as? [String: Any], String(decoding: line, as: UTF8.self))
        return Server(process: server, rest: try XCTUnwrap(object["rest"] as? String), s3: try XCTUnwrap(object["s3"] as? String),
                      environment: Self.credentials)
    }

    func testBackfillAndVerifyThroughSeaweedRESTCatalogWithOAuth2AndSigV4() throws {
        let server = try startServer()
        let fixture = try BronzeLogFixture.write(to: log, binanceTrades: 600, krakenFrames: 0, kafkaPerPartition: 200)
        let cluster = try fixture.kafkaCluster(log: log)
        let topic = BronzeLogFixture.kafkaTopic

        let oauth = server.environment.merging(["K2_ICEBERG_CREDENTIAL": "\(Self.credentials["AWS_ACCESS_KEY_ID"]!):\(Self.credentials["AWS_SECRET_ACCESS_KEY"]!)"]) { $1 }
        let sigv4 = server.environment.merging(["K2_ICEBERG_SIGV4": "1", "K2_ICEBERG_SIGNING_NAME": "s3tables"]) { $1 }
        let catalog = ["--catalog", "rest:" + server.rest, "--warehouse", "s3://warehouse", "--s3-endpoint", server.s3]
        let tables = [("market_data.bronze_binance_trades", "spark", oauth), ("market_data.bronze_binance_trades_flink", "flink", sigv4)]
        for (table, style, environment) in tables {
            let arguments = ["--from", "kafka://\(cluster.bootstrap)/\(topic)", "--to", "iceberg"] + catalog
                + ["--table", table, "--style", style, "--create", "--until-end", "--commit-rows", "150", "--json"]
            let first = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), arguments, environment: environment)
            XCTAssertEqual(first.status, 0, first.stderrText)
            // A rerun of the same backfill finds it done and writes nothing.
            let again = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), arguments, environment: environment)
            XCTAssertEqual(again.status, 0, again.stderrText)
            let summary = try XCTUnwrap(try JSONSerialization.jsonObject(with: again.stdout) as? [String: Any], again.stdoutText)
            XCTAssertEqual(summary["records_read"] as? Int, 0, again.stdoutText)
        }

        // The quality gate through the same catalog, against Kafka as the truth: parity, exit 0.
        let verify = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"), catalog + [
            "--left", tables[0].0, "--right", tables[1].0, "--truth", "kafka://\(cluster.bootstrap)/\(topic)", "--payload", "--json"],
            environment: sigv4)
        XCTAssertEqual(verify.status, 0, verify.stderrText + verify.stdoutText.prefix(2000))
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: verify.stdout) as? [String: Any])
        XCTAssertEqual(((report["summary"] as? [String: Any])?["rows"] as? [String: Any])?["left"] as? Int, fixture.kafkaRecords.count)

        // Two independent readers: pyiceberg's REST client (SigV4) and duckdb's iceberg extension (OAuth2).
        let expected = fixture.kafkaRecords.map { "\($0.key[0])/\($0.key[1])/\(ReplayToIcebergTests.hex($0.value.value))" }.sorted()
        for (table, _, _) in tables {
            let pyiceberg = try ProcessRunner.run(TestEnvironment.python, ["-c", Self.pyicebergScript, server.rest, server.s3, table],
                                                  environment: server.environment)
            XCTAssertEqual(pyiceberg.status, 0, pyiceberg.stderrText)
            let rows = try XCTUnwrap(try JSONSerialization.jsonObject(with: pyiceberg.stdout) as? [String])
            XCTAssertEqual(rows, expected, "pyiceberg reads \(table)")

            let duck = try ProcessRunner.run(TestEnvironment.python, [
                TestEnvironment.repositoryRoot.appendingPathComponent("scripts/duckdb_iceberg_read.py").path, table,
                "--rest", server.rest, "--s3-endpoint", server.s3], environment: server.environment)
            XCTAssertEqual(duck.status, 0, duck.stderrText)
            let read = try XCTUnwrap(try JSONSerialization.jsonObject(with: duck.stdout) as? [String: Any], duck.stdoutText)
            XCTAssertEqual(read["rows"] as? Int, fixture.kafkaRecords.count, "duckdb reads \(table)")
            XCTAssertEqual(read["sha256"] as? String, Self.sha256Lines(fixture), "duckdb's rows of \(table)")
        }
    }

    /// duckdb_iceberg_read.py's hash: SHA-256 over "<partition>\t<offset>\t<hex>\n", sorted.
    static func sha256Lines(_ fixture: BronzeLogFixture) -> String {
        let lines = fixture.kafkaRecords.map { (key, record) in (key[0], key[1], ReplayToIcebergTests.hex(record.value)) }
            .sorted { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
            .map { "\($0.0)\t\($0.1)\t\($0.2)\n" }.joined()
        let result = try? ProcessRunner.python("import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())",
                                               stdin: Data(lines.utf8))
        return result?.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
    }

    static let pyicebergScript = #"""
    import sys, json, os
    from pyiceberg.catalog.rest import RestCatalog
    rest, s3, name = sys.argv[1:4]
    cat = RestCatalog("seaweed", uri=rest, warehouse="s3://warehouse", **{
        "rest.sigv4-enabled": "true", "rest.signing-name": "s3tables", "rest.signing-region": "us-east-1",
        "s3.endpoint": s3, "s3.region": "us-east-1", "s3.path-style-access": "true",
        "s3.access-key-id": os.environ["AWS_ACCESS_KEY_ID"], "s3.secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"]})
    t = cat.load_table(name).scan(selected_fields=("partition", "offset", "raw_bytes")).to_arrow()
    p, o, r = (t.column(c).to_pylist() for c in ("partition", "offset", "raw_bytes"))
    print(json.dumps(sorted(f"{p[i]}/{o[i]}/{r[i].hex()}" for i in range(t.num_rows))))
    """#
}
