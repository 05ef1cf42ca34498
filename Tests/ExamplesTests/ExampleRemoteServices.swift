import Foundation
import TestSupport

/// Local stand-ins for the services the remote-catalog examples name (PostgreSQL at postgres:5432, MinIO at
/// minio:9000, an Iceberg REST catalog at iceberg-rest:8181): a throw-away PostgreSQL (scripts/pg-test-server.sh)
/// with the examples' role and database `iceberg`, moto_server as S3 with the bucket `warehouse`, and
/// scripts/rest_catalog_server.py over S3. Each catalog holds the Spark- and Flink-style tables the examples
/// check, backfilled from the topic.
final class ExampleRemoteServices {
    let postgresPort: Int
    let s3Endpoint: String
    let restURI: String
    /// What the examples' processes need: the role's password and S3 keys (moto accepts any).
    let environment: [String: String]
    private let postgres: PostgreSQLTestServer
    private var services: [BackgroundProcess] = []
    private let directory: URL

    init(kafkaBootstrap: String, topic: String, run: (String, [String: String]) throws -> Void) throws {
        directory = try TestEnvironment.temporaryDirectory("k2-examples-remote")
        postgres = try PostgreSQLTestServer()
        postgresPort = postgres.port
        let password = "ex-" + UUID().uuidString
        _ = try postgres.psql("CREATE ROLE iceberg LOGIN SUPERUSER PASSWORD '\(password)'")
        try postgres.createDatabase("iceberg")

        let motoPort = try LocalPort.free()
        s3Endpoint = "http://127.0.0.1:\(motoPort)"
        let aws = ["AWS_ACCESS_KEY_ID": "examples", "AWS_SECRET_ACCESS_KEY": "examples", "AWS_REGION": "us-east-1"]
        let moto = try BackgroundProcess(TestEnvironment.repositoryRoot.appendingPathComponent(".venv/bin/moto_server").path,
                                         ["-H", "127.0.0.1", "-p", String(motoPort)], logFile: directory.appendingPathComponent("moto.log"))
        services.append(moto)
        guard LocalPort.waitUntilListening(motoPort, while: { moto.process.isRunning }) else { throw SetupError("moto_server: \(moto.log)") }
        let bucket = try ProcessRunner.run(TestEnvironment.python, ["-c", """
            import sys, boto3
            boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1").create_bucket(Bucket="warehouse")
            """, s3Endpoint], environment: aws)
        guard bucket.status == 0 else { throw SetupError("bucket: \(bucket.stderrText)") }

        let rest = try BackgroundProcess(TestEnvironment.python, [
            TestEnvironment.repositoryRoot.appendingPathComponent("scripts/rest_catalog_server.py").path,
            "--catalog-uri", "sqlite:///" + directory.appendingPathComponent("rest-catalog.db").path, "--warehouse", "s3://warehouse",
            "--property", "s3.endpoint=\(s3Endpoint)", "--property", "s3.region=us-east-1"],
            environment: aws, logFile: directory.appendingPathComponent("rest.log"))
        services.append(rest)
        guard let restPort = rest.firstLine() else { throw SetupError("REST catalog: \(rest.log)") }
        restURI = "rest:http://127.0.0.1:\(restPort)"
        environment = aws.merging(["PGPASSWORD": password]) { $1 }

        for catalog in ["postgresql://iceberg@127.0.0.1:\(postgresPort)/iceberg", restURI] {
            for (table, style) in [("market_data.bronze_binance_trades", "spark"), ("market_data.bronze_binance_trades_flink", "flink")] {
                try run("k2-replay --from kafka://\(kafkaBootstrap)/\(topic) --to iceberg --catalog \(catalog) --warehouse s3://warehouse --s3-endpoint \(s3Endpoint) --table \(table) --style \(style) --create --quiet --state-dir var/setup-state", environment)
            }
        }
    }

    /// The examples' service addresses and the local ones that stand in for them.
    var substitutions: [(String, String, String)] {
        [
            ("postgres:5432", "127.0.0.1:\(postgresPort)", "PostgreSQL is a throw-away server of scripts/pg-test-server.sh (role and database iceberg)"),
            ("localhost:5432", "127.0.0.1:\(postgresPort)", "likewise"),
            ("http://minio:9000", s3Endpoint, "S3 (MinIO) is moto_server, bucket warehouse"),
            ("http://localhost:9000", s3Endpoint, "likewise"),
            ("rest:http://iceberg-rest:8181", restURI, "the REST catalog is scripts/rest_catalog_server.py over that S3"),
            ("rest:http://localhost:8181", restURI, "likewise"),
        ]
    }

    func stop() {
        for service in services { service.stop() }
        postgres.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    deinit { stop() }
}
