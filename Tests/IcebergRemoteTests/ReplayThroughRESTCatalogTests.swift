import Foundation
import TestSupport
import XCTest

/// `k2-replay --to iceberg` and `k2-verify` against K2's deployment shape: an Iceberg REST catalog (the test
/// server, pyiceberg's SqlCatalog behind the REST API) over an S3 warehouse (moto on loopback, signatures
/// checked), every secret in the environment. pyiceberg then reads the tables back, independently.
final class ReplayThroughRESTCatalogTests: XCTestCase {
    static let topic = "market.crypto.trades.binance.raw"
    static let spark = "market_data.bronze_binance_trades"
    static let flink = "market_data.bronze_binance_trades_flink"

    private var moto: MotoS3?
    private var server: RESTCatalogServer?
    private var directory: URL!

    override func setUpWithError() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        directory = try TestEnvironment.temporaryDirectory("replay-rest")
    }

    override func tearDown() {
        server?.stop()
        moto?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// pyiceberg's view of a table, through the SQLite database behind the REST server, reading S3 itself.
    private func readBack(_ server: RESTCatalogServer, _ moto: MotoS3, table: String) throws -> [String: Any] {
        let script = """
            import os, sys, json
            import pyarrow as pa
            from pyiceberg.catalog.sql import SqlCatalog
            cat = SqlCatalog("k2", uri=sys.argv[1], warehouse="s3://warehouse", **{
                "s3.endpoint": os.environ["K2_S3_ENDPOINT"], "s3.region": "us-east-1",
                "s3.force-virtual-addressing": "false"})
            t = cat.load_table(sys.argv[2])
            a = t.scan().to_arrow()
            ts = a.column("kafka_timestamp").cast(pa.int64()).to_pylist()
            rows = [[p, o, k, tp, r.hex()] for p, o, k, tp, r in zip(
                a.column("partition").to_pylist(), a.column("offset").to_pylist(), ts,
                a.column("topic").to_pylist(), a.column("raw_bytes").to_pylist())]
            print(json.dumps({
                "metadata_location": t.metadata_location,
                "fields": [[f.name, str(f.field_type), f.required] for f in t.schema().fields],
                "files": sorted(task.file.file_path for task in t.scan().plan_files()),
                "replay_commits": sum(1 for s in t.snapshots() if "k2.replay.run-id" in s.summary.additional_properties),
                "rows": rows}))
            """
        let result = try ProcessRunner.run(TestEnvironment.python, ["-c", script, server.sqlAlchemyURI, table],
                                           environment: moto.checkerEnvironment)
        XCTAssertEqual(result.status, 0, result.stderrText)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stdoutText)
    }

    /// The catalog applies the second commit but answers 503 (a gateway timing out): the outcome is unknown
    /// to k2-replay, which must not delete the manifests the table may now name. It looks, finds its
    /// snapshot, and goes on; pyiceberg then scans the whole table (every manifest present) and finds every
    /// record once.
    func testCommitAppliedButAnsweredWith503KeepsTheTableWhole() throws {
        let server = try RESTCatalogServer(unknownOutcomeCommits: [2])
        self.server = server
        let log = directory.appendingPathComponent("log").path
        let records = try KafkaLogFixture.write(log, topic: Self.topic, perPartition: 70)
        let run = try ProgramRun.run(
            "k2-replay",
            ["--from", log, "--to", "iceberg", "--catalog", server.uri, "--table", Self.spark, "--style", "spark",
             "--create", "--commit-rows", "80", "--json", "--quiet"],
            environment: [:])
        XCTAssertEqual(run.status, 0, run.stderrText)
        let summary = try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any]
        XCTAssertEqual(summary?["rows_committed"] as? Int, 210, run.stdoutText)
        XCTAssertEqual(summary?["commits"] as? Int, 3, run.stdoutText)
        // The server logs each request with its status: the one injected 503 must be there.
        let serverLog = server.process.log
        XCTAssertEqual(serverLog.components(separatedBy: "\" 503 ").count - 1, 1, serverLog)

        let script = """
            import sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            t = SqlCatalog("k2", uri=sys.argv[1], warehouse=sys.argv[2]).load_table(sys.argv[3])
            a = t.scan().to_arrow()
            print(json.dumps({
                "snapshots": len(t.snapshots()),
                "rows": [[p, o, r.hex()] for p, o, r in zip(a.column("partition").to_pylist(),
                         a.column("offset").to_pylist(), a.column("raw_bytes").to_pylist())]}))
            """
        let back = try ProcessRunner.run(TestEnvironment.python, ["-c", script, server.sqlAlchemyURI, server.warehouse, Self.spark])
        XCTAssertEqual(back.status, 0, back.stderrText)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: back.stdout) as? [String: Any])
        XCTAssertEqual(json["snapshots"] as? Int, 3)
        let rows = json["rows"] as? [[Any]] ?? []
        var seen: [String: String] = [:]
        for row in rows {
            let key = "\(row[0] as? Int ?? -1):\(row[1] as? Int ?? -1)"
            XCTAssertNil(seen[key], "\(key) twice")
            seen[key] = row[2] as? String
        }
        XCTAssertEqual(Set(seen.keys), Set(records.keys))
        for (key, record) in records { XCTAssertEqual(seen[key], record.hex, key) }
    }

    func testReplayIntoBothStylesThroughRESTOnS3AndVerifyParity() throws {
        let moto = try MotoS3()
        self.moto = moto
        try moto.createBucket("warehouse")
        let token = "tok-" + UUID().uuidString
        let clientSecret = "cs-" + UUID().uuidString
        let aws = ["AWS_ACCESS_KEY_ID": moto.credentials.accessKeyId, "AWS_SECRET_ACCESS_KEY": moto.credentials.secretAccessKey,
                   "AWS_REGION": "us-east-1"]
        let server = try RESTCatalogServer(
            prefix: "k2", warehouse: "s3://warehouse", properties: ["s3.endpoint": moto.endpoint, "s3.region": "us-east-1"],
            environment: aws.merging(["K2_REST_TEST_TOKEN": token, "K2_REST_TEST_CLIENT": "k2-backfill:" + clientSecret]) { $1 })
        self.server = server
        let secrets = [token, clientSecret, moto.credentials.secretAccessKey]

        let log = directory.appendingPathComponent("log").path
        let records = try KafkaLogFixture.write(log, topic: Self.topic, perPartition: 70)

        // Spark style with a fixed bearer token and --s3-endpoint.
        let sparkArguments = ["--from", log, "--to", "iceberg", "--catalog", server.uri, "--warehouse", "s3://warehouse",
                              "--s3-endpoint", moto.endpoint, "--table", Self.spark, "--style", "spark", "--create",
                              "--commit-rows", "80", "--json", "--quiet"]
        let tokenEnvironment = aws.merging(["K2_ICEBERG_TOKEN": token]) { $1 }
        let spark = try ProgramRun.run("k2-replay", sparkArguments, environment: tokenEnvironment)
        XCTAssertEqual(spark.status, 0, spark.stderrText)
        ProgramRun.assertNoSecrets(spark, secrets)
        let sparkSummary = try JSONSerialization.jsonObject(with: spark.stdout) as? [String: Any]
        XCTAssertEqual(sparkSummary?["rows_committed"] as? Int, 210)
        XCTAssertEqual(sparkSummary?["commits"] as? Int, 3)

        // Flink style with OAuth2 client credentials and the endpoint from AWS_ENDPOINT_URL.
        let flink = try ProgramRun.run(
            "k2-replay",
            ["--from", log, "--to", "iceberg", "--catalog", server.uri, "--warehouse", "s3://warehouse",
             "--table", Self.flink, "--style", "flink", "--create", "--json", "--quiet"],
            environment: aws.merging(["K2_ICEBERG_CREDENTIAL": "k2-backfill:" + clientSecret, "AWS_ENDPOINT_URL": moto.endpoint]) { $1 })
        XCTAssertEqual(flink.status, 0, flink.stderrText)
        ProgramRun.assertNoSecrets(flink, secrets)

        // pyiceberg reads both tables from S3, every (partition, offset) once with its exact value.
        for (table, timestampType, required) in [(Self.spark, "timestamptz", false), (Self.flink, "timestamp", true)] {
            let back = try readBack(server, moto, table: table)
            XCTAssertTrue((back["metadata_location"] as? String)?.hasPrefix("s3://warehouse/market_data/") == true, "\(back)")
            let files = back["files"] as? [String] ?? []
            XCTAssertFalse(files.isEmpty)
            XCTAssertTrue(files.allSatisfy { $0.hasPrefix("s3://warehouse/market_data/") && $0.hasSuffix(".parquet") }, "\(files)")
            let fields = back["fields"] as? [[Any]] ?? []
            XCTAssertEqual(fields.map { $0[0] as? String }, ["raw_bytes", "topic", "partition", "offset", "kafka_timestamp",
                                                             "ingestion_timestamp", "ingestion_date"])
            XCTAssertEqual(fields.map { $0[1] as? String }, ["binary", "string", "int", "long", timestampType, timestampType, "date"])
            XCTAssertEqual(fields.map { $0[2] as? Bool }, Array(repeating: required, count: 7), table)
            let rows = back["rows"] as? [[Any]] ?? []
            XCTAssertEqual(rows.count, records.count, table)
            var seen: [String: (hex: String, timestampMs: Int64)] = [:]
            for row in rows {
                let key = "\(row[0] as? Int ?? -1):\(row[1] as? Int ?? -1)"
                XCTAssertNil(seen[key], "\(table): \(key) twice")
                XCTAssertEqual(row[3] as? String, Self.topic)
                XCTAssertEqual((row[2] as? NSNumber)?.int64Value, records[key].map { $0.timestampMs * 1000 }, "\(table) \(key)")
                seen[key] = (row[4] as? String ?? "", ((row[2] as? NSNumber)?.int64Value ?? 0) / 1000)
            }
            XCTAssertEqual(Set(seen.keys), Set(records.keys), table)
            for (key, record) in records { XCTAssertEqual(seen[key]?.hex, record.hex, "\(table) \(key)") }

            // A third reader: duckdb's iceberg extension on the same metadata file, through its own S3 client.
            let duck = try ProcessRunner.run(TestEnvironment.python, [
                TestEnvironment.repositoryRoot.appendingPathComponent("scripts/duckdb_iceberg_read.py").path,
                try XCTUnwrap(back["metadata_location"] as? String), "--s3-endpoint", moto.endpoint], environment: aws)
            XCTAssertEqual(duck.status, 0, duck.stderrText)
            let duckRead = try XCTUnwrap(try JSONSerialization.jsonObject(with: duck.stdout) as? [String: Any], duck.stdoutText)
            let lines = records.map { key, record in (key.split(separator: ":").map { Int($0)! }, record.hex) }
                .sorted { ($0.0[0], $0.0[1], $0.1) < ($1.0[0], $1.0[1], $1.1) }
                .map { "\($0.0[0])\t\($0.0[1])\t\($0.1)\n" }.joined()
            let digest = try ProcessRunner.python("import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())",
                                                  stdin: Data(lines.utf8)).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertEqual(duckRead["rows"] as? Int, records.count, "duckdb reads \(table)")
            XCTAssertEqual(duckRead["sha256"] as? String, digest, "duckdb's rows of \(table)")
        }
        XCTAssertEqual(try readBack(server, moto, table: Self.spark)["replay_commits"] as? Int, 3)

        // A rerun with the same arguments resumes from the summary keys read through REST: nothing new.
        let again = try ProgramRun.run("k2-replay", sparkArguments, environment: tokenEnvironment)
        XCTAssertEqual(again.status, 0, again.stderrText)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: again.stdout) as? [String: Any])?["rows"] as? Int, 0)
        XCTAssertEqual(try readBack(server, moto, table: Self.spark)["replay_commits"] as? Int, 3)

        // k2-verify through the same REST catalog and S3: the two tables agree, payloads included.
        let verify = try ProgramRun.run(
            "k2-verify",
            ["--catalog", server.uri, "--s3-endpoint", moto.endpoint, "--left", Self.spark, "--right", Self.flink,
             "--payload", "--json"],
            environment: tokenEnvironment)
        XCTAssertEqual(verify.status, 0, verify.stderrText + verify.stdoutText)
        ProgramRun.assertNoSecrets(verify, secrets)
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: verify.stdout) as? [String: Any])
        XCTAssertEqual(report["parity"] as? Bool, true)
        let partitions = report["partitions"] as? [[String: Any]] ?? []
        XCTAssertEqual(partitions.map { $0["partition"] as? Int }, [0, 1, 2])
        XCTAssertEqual(partitions.map { ($0["left"] as? [String: Any])?["rows"] as? Int }, [70, 70, 70])
        XCTAssertEqual(partitions.map { ($0["right"] as? [String: Any])?["rows"] as? Int }, [70, 70, 70])

        // A wrong token: refused by the catalog (exit 2), and neither token is printed.
        let wrong = "bad-" + UUID().uuidString
        let refused = try ProgramRun.run("k2-replay", sparkArguments, environment: aws.merging(["K2_ICEBERG_TOKEN": wrong]) { $1 })
        XCTAssertEqual(refused.status, 2, refused.stderrText)
        XCTAssertTrue(refused.stderrText.contains("401"), refused.stderrText)
        XCTAssertTrue(refused.stderrText.contains(server.uri), refused.stderrText)
        ProgramRun.assertNoSecrets(refused, secrets + [wrong])
        // No S3 credentials: the catalog answers, the first S3 write names the missing variables.
        let noS3 = try ProgramRun.run(
            "k2-verify",
            ["--catalog", server.uri, "--s3-endpoint", moto.endpoint, "--left", Self.spark, "--right", Self.flink],
            environment: ["K2_ICEBERG_TOKEN": token, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""])
        XCTAssertEqual(noS3.status, 2, noS3.stderrText)
        XCTAssertTrue(noS3.stderrText.contains("AWS_ACCESS_KEY_ID"), noS3.stderrText)
        ProgramRun.assertNoSecrets(noS3, secrets)
    }

    /// Through REST the replay's progress travels as a `set-properties` update in the same commit as its
    /// snapshot: after a killed replay, an unrelated append and the expiry of every other snapshot (pyiceberg,
    /// on the catalog behind the server), a rerun through REST continues where the run stopped.
    func testRerunThroughRESTAfterSnapshotsExpiredWritesEachRecordOnce() throws {
        let server = try RESTCatalogServer()
        self.server = server
        let warehouse = server.warehouse.hasPrefix("file://") ? String(server.warehouse.dropFirst("file://".count)) : server.warehouse
        try ExpiredSnapshotResumeScenario(catalogArguments: ["--catalog", server.uri], sqlAlchemyURI: server.sqlAlchemyURI,
                                          warehousePath: warehouse, directory: directory).run()
    }
}
