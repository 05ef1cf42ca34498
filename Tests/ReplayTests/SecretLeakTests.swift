import Foundation
import Kafka
import SegmentLog
import TestSupport
import XCTest

/// A marked secret in every place a secret can go (URL user info in every URL option of the four programs,
/// the K2_KAFKA_* / PG / K2_ICEBERG_* / AWS_* variables, `-X`), with commands that fail: the marker must not
/// appear on stdout, stderr, in `--json` output or in an HTML report. URLs with user info are refused (exit 2)
/// before anything uses them; secrets from the environment are used and never shown.
final class SecretLeakTests: XCTestCase {
    struct Case {
        var program: String
        var arguments: [String]
        var environment: [String: String] = [:]
        /// Exit codes the failing command may end with.
        var exits: Set<Int32> = [2]
        /// Text stderr must hold (the refusal), if any.
        var mentions: String?
    }

    let secret = "K2MARK\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"

    private func scratch() throws -> String {
        let directory = try TestEnvironment.temporaryDirectory("secrets")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory.path
    }

    /// Runs `test` (and with `--json` when `json`), failing when the marker shows anywhere it printed.
    private func assertNoLeak(_ test: Case, json: Bool, file: StaticString = #filePath, line: UInt = #line) throws {
        for extra in json ? [[], ["--json"]] : [["--json"]] {
            let run = try ProcessRunner.run(TestEnvironment.productPath(test.program), test.arguments + extra, environment: test.environment)
            let shown = "\(test.program) \((test.arguments + extra).joined(separator: " ")) env \(test.environment.keys.sorted())"
                .replacingOccurrences(of: secret, with: "MARK")
            let stderr = run.stderrText, stdout = run.stdoutText
            XCTAssertFalse(stderr.contains(secret), "\(shown) printed the secret on stderr", file: file, line: line)
            XCTAssertFalse(stdout.contains(secret), "\(shown) printed the secret on stdout", file: file, line: line)
            XCTAssertTrue(test.exits.contains(run.status),
                          "\(shown): exit \(run.status): \(stderr.replacingOccurrences(of: secret, with: "MARK").suffix(600))", file: file, line: line)
            XCTAssertFalse(stderr.contains("Fatal error"), "\(shown) crashed", file: file, line: line)
            if let mentions = test.mentions {
                XCTAssertTrue(stderr.contains(mentions), "\(shown) does not say \(mentions): \(stderr.replacingOccurrences(of: secret, with: "MARK").suffix(600))",
                              file: file, line: line)
            }
            if extra == ["--json"] {
                let object = try? JSONSerialization.jsonObject(with: run.stdout) as? [String: Any]
                XCTAssertNotNil(object, "\(shown) printed no JSON: \(stdout.replacingOccurrences(of: secret, with: "MARK").prefix(300))", file: file, line: line)
            }
        }
    }

    /// Every URL option of the four programs, with the marked secret as the password of its user info.
    func testCredentialsInEveryURLOptionAreRefusedAndNeverShown() throws {
        let log = try scratch()
        let warehouse = log + "/wh"
        let s = secret
        let iceberg = ["--from", log, "--to", "iceberg", "--table", "market_data.bronze_binance_trades", "--create"]
        let refused = "credentials in"
        let cases: [Case] = [
            // Kafka broker lists and topic addresses.
            Case(program: "k2-replay", arguments: ["--from", log, "--to", "kafka", "--schema-id", "1", "--bootstrap", "u:\(s)@127.0.0.1:9"], mentions: refused),
            Case(program: "k2-replay", arguments: ["--from", log, "--to", "kafka", "--schema-id", "1", "--bootstrap", "127.0.0.1:9,SASL_SSL://u:\(s)@127.0.0.1:10"], mentions: refused),
            Case(program: "k2-replay", arguments: ["--from", "kafka://u:\(s)@127.0.0.1:9/t", "--to", "jsonl"], mentions: refused),
            Case(program: "k2-replay", arguments: ["--from", "kafka://127.0.0.1:9/t", "--to", "kafka", "--bootstrap", "u:\(s)@127.0.0.1:9"], mentions: refused),
            Case(program: "k2-capture", arguments: ["kafka", "--bootstrap", "u:\(s)@127.0.0.1:9", "--topic", "t", "--out", log + "/c"], mentions: refused),
            Case(program: "k2-verify", arguments: ["--left", "kafka://u:\(s)@127.0.0.1:9/t", "--right", "log:\(log)"], mentions: refused),
            Case(program: "k2-verify", arguments: ["--left", "log:\(log)", "--right", "kafka://127.0.0.1:9,u:\(s)@127.0.0.1:10/t"], mentions: refused),
            Case(program: "k2-verify", arguments: ["--left", "log:\(log)", "--right", "log:\(log)", "--truth", "kafka://u:\(s)@127.0.0.1:9/t"], mentions: refused),
            // The schema registry and the exchanges.
            Case(program: "k2-replay", arguments: ["--from", log, "--to", "kafka", "--bootstrap", "127.0.0.1:9", "--schema-registry", "http://u:\(s)@127.0.0.1:9"],
                 mentions: refused),
            Case(program: "k2-capture", arguments: ["binance", "--symbols", "BTCUSDT", "--out", log + "/b", "--url", "wss://u:\(s)@127.0.0.1:9"], mentions: refused),
            Case(program: "k2-capture", arguments: ["kraken", "--pairs", "XBT/USD", "--out", log + "/k", "--url", "ws://u:\(s)@127.0.0.1:9"], mentions: refused),
            // Catalogs, warehouses and S3 endpoints, in both programs that take them.
            Case(program: "k2-replay", arguments: iceberg + ["--warehouse", warehouse, "--catalog", "postgresql://u:\(s)@127.0.0.1:9/db"], mentions: "refused"),
            Case(program: "k2-replay", arguments: iceberg + ["--warehouse", warehouse, "--catalog", "rest:http://u:\(s)@127.0.0.1:9"], mentions: refused),
            Case(program: "k2-replay", arguments: iceberg + ["--catalog", "sqlite:\(log)/c.db", "--warehouse", "s3://AKID:\(s)@bucket"], mentions: refused),
            Case(program: "k2-replay", arguments: iceberg + ["--catalog", "sqlite:\(log)/c.db", "--warehouse", "s3://bucket",
                                                             "--s3-endpoint", "http://AKID:\(s)@127.0.0.1:9"], mentions: refused),
            Case(program: "k2-verify", arguments: ["--left", "a.b", "--right", "a.c", "--catalog", "postgresql://u:\(s)@127.0.0.1:9/db"], mentions: "refused"),
            Case(program: "k2-verify", arguments: ["--left", "a.b", "--right", "a.c", "--catalog", "rest:https://u:\(s)@127.0.0.1:9/cat"], mentions: refused),
            Case(program: "k2-verify", arguments: ["--left", "a.b", "--right", "a.c", "--catalog", "sqlite:\(log)/c.db", "--warehouse", "s3://AKID:\(s)@bucket/p"],
                 mentions: refused),
            Case(program: "k2-verify", arguments: ["--left", "a.b", "--right", "a.c", "--catalog", "sqlite:\(log)/c.db", "--s3-endpoint", "http://AKID:\(s)@127.0.0.1:9"],
                 mentions: refused),
        ]
        for test in cases { try assertNoLeak(test, json: true) }
    }

    /// `-X` with a credential (refused, naming the variable to use instead), and broker lists with user info
    /// given as librdkafka properties on the command line or in the environment.
    func testCredentialsInKafkaPropertiesAreRefusedAndNeverShown() throws {
        let log = try scratch()
        let s = secret
        let replay = ["--from", log, "--to", "kafka", "--schema-id", "1", "--bootstrap", "127.0.0.1:9"]
        let capture = ["kafka", "--bootstrap", "127.0.0.1:9", "--topic", "t", "--out", log + "/c"]
        var cases: [Case] = []
        for property in ["sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret", "ssl.key.pem"] {
            cases.append(Case(program: "k2-replay", arguments: replay + ["-X", "\(property)=\(s)"], mentions: "refused"))
            cases.append(Case(program: "k2-capture", arguments: capture + ["-X", "\(property)=\(s)"], mentions: "refused"))
        }
        cases.append(Case(program: "k2-replay", arguments: replay + ["-X", "bootstrap.servers=u:\(s)@127.0.0.1:9"], mentions: "refused"))
        cases.append(Case(program: "k2-capture", arguments: capture + ["-X", "metadata.broker.list=u:\(s)@127.0.0.1:9"], mentions: "refused"))
        cases.append(Case(program: "k2-replay", arguments: replay, environment: ["K2_KAFKA_BOOTSTRAP_SERVERS": "u:\(s)@127.0.0.1:9"], mentions: "refused"))
        cases.append(Case(program: "k2-capture", arguments: capture, environment: ["K2_KAFKA_BOOTSTRAP_SERVERS": "u:\(s)@127.0.0.1:9"], mentions: "refused"))
        for test in cases { try assertNoLeak(test, json: true) }
    }

    /// Secrets where they belong (the environment), used by commands that then fail: an unreachable broker
    /// with SASL and librdkafka's debug logging on, an unreachable PostgreSQL, REST catalog and S3 endpoint.
    func testSecretsFromTheEnvironmentAreNeverShownWhenCommandsFail() throws {
        let log = try scratch()
        let s = secret
        let sasl = ["-X", "security.protocol=SASL_PLAINTEXT", "-X", "sasl.mechanism=PLAIN", "-X", "sasl.username=u", "-X", "debug=conf,security,broker"]
        let kafkaSecret = ["K2_KAFKA_SASL_PASSWORD": s, "K2_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "K2_KAFKA_SASL_MECHANISM": "PLAIN",
                           "K2_KAFKA_SASL_USERNAME": "u"]
        let aws = ["AWS_ACCESS_KEY_ID": "AKIA\(s)", "AWS_SECRET_ACCESS_KEY": s, "AWS_SESSION_TOKEN": s]
        let iceberg = ["--from", log, "--to", "iceberg", "--table", "market_data.bronze_binance_trades", "--create"]
        let cases: [Case] = [
            Case(program: "k2-replay", arguments: ["--from", log, "--to", "kafka", "--schema-id", "1", "--bootstrap", "127.0.0.1:9"] + sasl,
                 environment: ["K2_KAFKA_SASL_PASSWORD": s]),
            Case(program: "k2-replay", arguments: ["--from", "kafka://127.0.0.1:9/t", "--to", "jsonl"], environment: kafkaSecret),
            Case(program: "k2-capture", arguments: ["kafka", "--bootstrap", "127.0.0.1:9", "--topic", "t", "--out", log + "/c"] + sasl,
                 environment: ["K2_KAFKA_SASL_PASSWORD": s]),
            Case(program: "k2-verify", arguments: ["--left", "kafka://127.0.0.1:9/t", "--right", "log:\(log)"], environment: kafkaSecret),
            Case(program: "k2-replay", arguments: iceberg + ["--warehouse", log + "/wh", "--catalog", "postgresql://u@127.0.0.1:9/db"],
                 environment: ["PGPASSWORD": s]),
            Case(program: "k2-verify", arguments: ["--left", "a.b", "--right", "a.c", "--catalog", "postgresql://u@127.0.0.1:9/db"], environment: ["PGPASSWORD": s]),
            Case(program: "k2-replay", arguments: iceberg + ["--catalog", "rest:http://127.0.0.1:9"], environment: ["K2_ICEBERG_TOKEN": s]),
            Case(program: "k2-verify", arguments: ["--left", "a.b", "--right", "a.c", "--catalog", "rest:http://127.0.0.1:9"],
                 environment: ["K2_ICEBERG_CREDENTIAL": "client:\(s)"]),
            // An unreachable S3 endpoint: k2-replay gives up after its retries, exit 2 (could not run), as for a broker.
            Case(program: "k2-replay", arguments: iceberg + ["--catalog", "sqlite:\(log)/c.db", "--warehouse", "s3://bucket", "--s3-endpoint", "http://127.0.0.1:9"],
                 environment: aws, exits: [2]),
            Case(program: "k2-verify", arguments: ["--left", "a.b", "--right", "a.c", "--catalog", "sqlite:\(log)/none.db", "--warehouse", "s3://bucket"],
                 environment: aws.merging(["AWS_ENDPOINT_URL": "http://127.0.0.1:9"]) { $1 }),
            // The endpoint variables are addresses too: user info in them is refused like --s3-endpoint's.
            Case(program: "k2-replay", arguments: iceberg + ["--catalog", "sqlite:\(log)/c.db", "--warehouse", "s3://bucket"],
                 environment: aws.merging(["AWS_ENDPOINT_URL": "http://AKID:\(s)@127.0.0.1:9"]) { $1 }, mentions: "credentials in"),
            Case(program: "k2-verify", arguments: ["--left", "a.b", "--right", "a.c", "--catalog", "sqlite:\(log)/c.db"],
                 environment: ["AWS_ENDPOINT_URL_S3": "http://AKID:\(s)@127.0.0.1:9"], mentions: "credentials in"),
            Case(program: "k2-compact", arguments: [log + "/no-such-log", "--check"], environment: kafkaSecret.merging(aws) { $1 }),
        ]
        for test in cases { try assertNoLeak(test, json: false) }
    }

    /// A check that runs to its end (a mismatch, exit 1) with every secret variable set: the text, JSON and
    /// HTML reports hold none of them.
    func testReportsOfACheckWithSecretsInTheEnvironmentHoldNone() throws {
        let directory = try scratch()
        for (name, gap) in [("left", false), ("right", true)] {
            let writer = try SegmentLogWriter(directory: directory + "/" + name) { _ in }
            for index in 0..<200 where !(gap && (50..<60).contains(index)) {
                try writer.append(LogRecord(
                    receiveTimeNanos: 1_800_000_000_000_000_000 + Int64(index), source: "kafka:t", stream: "0", payload: Array("v\(index)".utf8),
                    kafka: KafkaCoordinates(partition: 0, offset: Int64(index), timestampMs: 1_700_000_000_000 + Int64(index), timestampType: 1,
                                            key: Array("BTCUSDT".utf8))))
            }
            try writer.close()
        }
        let environment = ["K2_KAFKA_SASL_PASSWORD": secret, "PGPASSWORD": secret, "K2_ICEBERG_TOKEN": secret,
                           "K2_ICEBERG_CREDENTIAL": "c:\(secret)", "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": secret]
        let html = directory + "/report.html"
        for extra in [[], ["--json"]] {
            let run = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"),
                                            ["--left", "log:\(directory)/left", "--right", "log:\(directory)/right", "--html", html] + extra,
                                            environment: environment)
            XCTAssertEqual(run.status, 1, run.stderrText)
            XCTAssertFalse(run.stdoutText.contains(secret) || run.stderrText.contains(secret))
            XCTAssertTrue(run.stdoutText.contains("50"), "the report names the gap: \(run.stdoutText.prefix(400))")
            let page = try String(contentsOfFile: html, encoding: .utf8)
            XCTAssertTrue(page.contains("<html"), "an HTML report was written")
            XCTAssertFalse(page.contains(secret), "the HTML report holds the secret")
            try FileManager.default.removeItem(atPath: html)
        }
    }
}
