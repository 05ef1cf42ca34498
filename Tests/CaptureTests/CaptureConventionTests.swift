import Foundation
import Kafka
import SegmentLog
import TestSupport
import XCTest

/// The conventions every program follows (issue 15), as `k2-capture` shows them: exit codes and JSON error
/// objects, `--version`, option spellings, help that lists only what applies, credentials only from the
/// environment, and snake_case JSON reports with their header.
final class CaptureConventionTests: XCTestCase {
    private var capture: String { CaptureHarness.capturePath }

    func testUnknownOptionExitsTwoWithAJSONErrorObject() throws {
        let result = try ProcessRunner.run(capture, ["binance", "--out", "/nonexistent/never", "--no-such-option", "--json"])
        XCTAssertEqual(result.status, 2, result.stderrText)
        let error = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stdoutText)
        XCTAssertTrue((error["error"] as? String ?? "").contains("--no-such-option"), result.stdoutText)
        XCTAssertEqual(error["exit_code"] as? Int, 2)
        XCTAssertEqual(error["program"] as? String, "k2-capture")
        XCTAssertNotNil(error["toolkit_version"] as? String)
        XCTAssertNotNil(error["report_format"] as? Int)
        XCTAssertEqual(JSONReportKeys.keysNotSnakeCase(error), [])
        // A WebSocket option is not a Kafka capture's.
        let kafka = try ProcessRunner.run(capture, ["kafka", "--bootstrap", "127.0.0.1:9", "--topic", "t", "--out", "/nonexistent/never",
                                                    "--url", "ws://127.0.0.1:1"])
        XCTAssertEqual(kafka.status, 2)
        XCTAssertTrue(kafka.stderrText.contains("--url"), kafka.stderrText)
    }

    func testVersion() throws {
        for arguments in [["--version"], ["kafka", "--version"]] {
            let result = try ProcessRunner.run(capture, arguments)
            XCTAssertEqual(result.status, 0, result.stderrText)
            let version = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            XCTAssertNotNil(version.range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression), version)
        }
    }

    func testKafkaHelpShowsOnlyKafkaOptionsAndNoCredentialArgument() throws {
        let help = try ProcessRunner.run(capture, ["kafka", "--help"])
        XCTAssertEqual(help.status, 0)
        for option in ["--since", "--until", "--from-offset", "--partitions", "--segment-bytes", "-X"] {
            XCTAssertTrue(help.stdoutText.contains(option), option)
        }
        for option in ["--url", "--ca-file", "--stall-timeout", "--handover-timeout", "--max-frame-bytes", "--from-time", "--until-time"] {
            XCTAssertFalse(help.stdoutText.contains(option), option)
        }
        XCTAssertFalse(help.stdoutText.contains("-X sasl.password"), help.stdoutText)
        XCTAssertTrue(help.stdoutText.contains("K2_KAFKA_SASL_PASSWORD"), help.stdoutText)
        let binance = try ProcessRunner.run(capture, ["binance", "--help"])
        XCTAssertTrue(binance.stdoutText.contains("--stall-timeout"), binance.stdoutText)
    }

    /// The spellings before issue 15 are refused, each naming the one to use; sizes and partition selections
    /// that do not parse name the option and the text.
    func testOldSpellingsAndBadValuesAreRefusedNamingTheFix() throws {
        let base = ["kafka", "--bootstrap", "127.0.0.1:9", "--topic", "t", "--out", "/nonexistent/never"]
        let cases: [([String], [String])] = [
            (["--from-offset", "beginning"], ["earliest"]),
            (["--from-offset", "end"], ["latest"]),
            (["--from-time", "2024-02-09"], ["--since"]),
            (["--until-time", "2024-02-09"], ["--until"]),
            (["--since", "yesterday-ish"], ["--since", "yesterday-ish"]),
            (["--segment-bytes", "12X"], ["--segment-bytes", "12X"]),
            (["--partitions", "0,3-x"], ["--partitions", "0,3-x"]),
        ]
        for (extra, mentions) in cases {
            let result = try ProcessRunner.run(capture, base + extra)
            XCTAssertEqual(result.status, 2, "\(extra): \(result.stderrText)")
            for word in mentions { XCTAssertTrue(result.stderrText.contains(word), "\(extra): \(result.stderrText)") }
        }
    }

    /// `-X sasl.password=...` is refused (exit 2, naming K2_KAFKA_SASL_PASSWORD, the value printed nowhere);
    /// the same property from the environment is used, and the run's JSON report has snake_case keys, its
    /// header, and each partition as data (topic, partition).
    func testCredentialsOnlyFromTheEnvironmentAndSnakeCaseReport() throws {
        let secret = "hunter2-do-not-print"
        let refused = try ProcessRunner.run(capture, ["kafka", "--bootstrap", "127.0.0.1:9", "--topic", "t", "--out", "/nonexistent/never",
                                                      "-X", "sasl.password=\(secret)", "--json"])
        XCTAssertEqual(refused.status, 2, refused.stderrText)
        XCTAssertTrue(refused.stderrText.contains("K2_KAFKA_SASL_PASSWORD"), refused.stderrText)
        XCTAssertFalse(refused.stderrText.contains(secret) || refused.stdoutText.contains(secret))
        let error = try XCTUnwrap(try JSONSerialization.jsonObject(with: refused.stdout) as? [String: Any], refused.stdoutText)
        XCTAssertTrue((error["error"] as? String ?? "").contains("K2_KAFKA_SASL_PASSWORD"))

        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("conventions", partitions: 3, replicationFactor: 1)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        for index in 0..<9 { try producer.produce(topic: "conventions", partition: Int32(index % 3), key: nil, value: Array("v\(index)".utf8)) }
        XCTAssertTrue(producer.flush(timeoutMs: 30_000))

        let directory = try TestEnvironment.temporaryDirectory("capture-conventions")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try ProcessRunner.run(capture, [
            "kafka", "--bootstrap", cluster.bootstrap, "--topic", "conventions", "--partitions", "0-1", "--from-offset", "earliest",
            "--until-end", "--segment-bytes", "64m", "--out", directory.path, "--json",
        ], environment: ["K2_KAFKA_SASL_PASSWORD": secret, "K2_KAFKA_CLIENT_ID": "k2-conventions-test"])
        XCTAssertEqual(result.status, 0, result.stderrText)
        XCTAssertFalse(result.stderrText.contains(secret) || result.stdoutText.contains(secret))
        let report = try XCTUnwrap(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stdoutText)
        XCTAssertEqual(JSONReportKeys.keysNotSnakeCase(report), [])
        XCTAssertEqual(report["program"] as? String, "k2-capture")
        XCTAssertNotNil(report["toolkit_version"] as? String)
        XCTAssertEqual(report["report_format"] as? Int, 2)
        XCTAssertEqual(report["stop_reason"] as? String, "until")
        XCTAssertEqual(report["messages"] as? Int, 6)
        let streams = try XCTUnwrap(report["streams"] as? [[String: Any]])
        XCTAssertEqual(streams.compactMap { $0["partition"] as? Int }, [0, 1])
        XCTAssertEqual(streams.compactMap { $0["topic"] as? String }, ["conventions", "conventions"])
        XCTAssertEqual(streams.compactMap { $0["last_sequence"] as? Int }, [3, 3])
    }
}

extension CaptureConventionTests {
    /// Every option an example of `k2-capture ... --help` uses exists in that subcommand's help (the values of
    /// sizes, partitions and offsets are checked by the refusal tests above; the examples connect to real
    /// exchanges and brokers, so they are not run here).
    func testHelpExamplesUseOnlyOptionsThatExist() throws {
        var helps: [String: String] = [:]
        for subcommand in ["binance", "kraken", "kafka"] {
            helps[subcommand] = try ProcessRunner.run(capture, [subcommand, "--help"], environment: ["COLUMNS": "1000"]).stdoutText
        }
        var checked = 0
        for page in [[], ["binance"], ["kraken"], ["kafka"]] {
            let help = try ProcessRunner.run(capture, page + ["--help"], environment: ["COLUMNS": "1000"]).stdoutText
            for line in help.split(separator: "\n") {
                let words = line.split(separator: " ").map(String.init)
                guard let start = words.firstIndex(of: "k2-capture"), start + 1 < words.count,
                      let subcommandHelp = helps[words[start + 1]] else { continue }
                checked += 1
                for word in words[(start + 2)...] where word.hasPrefix("-") {
                    XCTAssertTrue(subcommandHelp.contains("  \(word) ") || subcommandHelp.contains("  \(word)\n"),
                                  "\(line): \(word) is not an option of k2-capture \(words[start + 1])")
                }
            }
        }
        XCTAssertGreaterThanOrEqual(checked, 10)
    }
}
