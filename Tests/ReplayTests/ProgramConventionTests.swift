import Foundation
import TestSupport
import XCTest

/// What scripts rely on, the same in all four programs: a bad or unknown argument exits 2 (never
/// ArgumentParser's 64, never a crash), with a JSON error object on stdout under `--json`; numbers too
/// large for any option (`--rate 1e400`, a time past 2262, a duration of 1e300 s) are refused the same way.
final class ProgramConventionTests: XCTestCase {
    struct Case {
        var program: String
        var arguments: [String]
        var mentions: String
    }

    func scratch() throws -> String {
        let directory = try TestEnvironment.temporaryDirectory("conventions")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        return directory.path
    }

    func testBadArgumentsAndHugeNumbersExitTwoInEveryProgram() throws {
        let log = try scratch()
        let cases: [Case] = [
            Case(program: "k2-replay", arguments: ["--from", log, "--to", "jsonl", "--no-such-option"], mentions: "no-such-option"),
            Case(program: "k2-replay", arguments: ["--from", log, "--to", "jsonl", "--rate", "0"], mentions: "--rate"),
            Case(program: "k2-replay", arguments: ["--from", log, "--to", "jsonl", "--rate", "1e400"], mentions: "--rate"),
            Case(program: "k2-replay", arguments: ["--from", log, "--to", "jsonl", "--rate", "5", "--burst", "1e300"], mentions: "--burst"),
            Case(program: "k2-replay", arguments: ["--from", log, "--to", "jsonl", "--speed", "1e400"], mentions: "--speed"),
            Case(program: "k2-replay", arguments: ["--from", log, "--to", "jsonl", "--since", "18446744073709551616"], mentions: "--since"),
            Case(program: "k2-replay", arguments: ["--from", log, "--to", "jsonl", "--until", "9999999999999999999"], mentions: "--until"),
            Case(program: "k2-compact", arguments: [log, "--no-such-option"], mentions: "no-such-option"),
            Case(program: "k2-compact", arguments: [log, "--dedup-window", "1e300s"], mentions: "--dedup-window"),
            Case(program: "k2-compact", arguments: [log, "--delete-before", "99999999999999999999"], mentions: "--delete-before"),
            Case(program: "k2-verify", arguments: ["--left", "a.b", "--right", "a.c", "--no-such-option"], mentions: "no-such-option"),
            Case(program: "k2-verify", arguments: ["--catalog", "sqlite:" + log + "/c.db", "--left", "a.b", "--right", "a.c",
                                                   "--since", "18446744073709551616"], mentions: "--since"),
            Case(program: "k2-capture", arguments: ["binance", "--symbols", "BTCUSDT", "--out", log, "--no-such-option"], mentions: "no-such-option"),
            Case(program: "k2-capture", arguments: ["binance", "--symbols", "BTCUSDT", "--out", log, "--duration", "1e300s"], mentions: "--duration"),
        ]
        for test in cases {
            let run = try ProcessRunner.run(TestEnvironment.productPath(test.program), test.arguments)
            let line = "\(test.program) \(test.arguments.joined(separator: " "))"
            XCTAssertEqual(run.status, 2, "\(line): \(run.stderrText)")
            XCTAssertTrue(run.stderrText.contains(test.mentions), "\(line) does not name \(test.mentions): \(run.stderrText)")
            XCTAssertFalse(run.stderrText.contains("Fatal error"), "\(line) crashed: \(run.stderrText)")

            let json = try ProcessRunner.run(TestEnvironment.productPath(test.program), test.arguments + ["--json"])
            XCTAssertEqual(json.status, 2, "\(line) --json: \(json.stderrText)")
            let object = try? JSONSerialization.jsonObject(with: json.stdout) as? [String: Any]
            XCTAssertEqual(object?["exit_code"] as? Int, 2, "\(line) --json printed \(json.stdoutText)")
            XCTAssertEqual(object?["program"] as? String, test.program)
            XCTAssertTrue((object?["error"] as? String)?.isEmpty == false, "\(line) --json printed \(json.stdoutText)")
        }
    }

    func testHelpAndARuntimeFailureKeepTheirCodes() throws {
        for program in ["k2-replay", "k2-compact", "k2-verify", "k2-capture"] {
            let help = try ProcessRunner.run(TestEnvironment.productPath(program), ["--help"])
            XCTAssertEqual(help.status, 0, "\(program) --help: \(help.stderrText)")
            XCTAssertTrue(help.stdoutText.contains("USAGE"), program)
            let version = try ProcessRunner.run(TestEnvironment.productPath(program), ["--version"])
            XCTAssertEqual(version.status, 0, "\(program) --version: \(version.stderrText)")
            XCTAssertTrue(version.stdoutText.range(of: #"^\d+\.\d+\.\d+\n$"#, options: .regularExpression) != nil, "\(program) --version: \(version.stdoutText)")
        }
        // An unreadable input is "could not run" too, with the JSON error object under --json.
        let missing = try scratch() + "/no-such-log"
        let run = try ProcessRunner.run(TestEnvironment.productPath("k2-compact"), [missing, "--check", "--json"])
        XCTAssertEqual(run.status, 2, run.stderrText)
        XCTAssertEqual((try? JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])?["exit_code"] as? Int, 2, run.stdoutText)
    }

    /// A URL with credentials is refused before anything uses it, and the secret appears nowhere: not on
    /// stderr, not in the JSON error, not handed to librdkafka (which would log it) or resolved as a host.
    func testCredentialsInURLsAreRefusedAndNeverPrinted() throws {
        let log = try scratch()
        let secret = "S3cr3t-\(UUID().uuidString)"
        let cases: [(String, [String])] = [
            ("k2-replay", ["--from", "kafka://user:\(secret)@127.0.0.1:9/t", "--to", "jsonl"]),
            ("k2-replay", ["--from", log, "--to", "kafka", "--bootstrap", "127.0.0.1:9", "--schema-registry", "http://u:\(secret)@127.0.0.1:9"]),
            ("k2-verify", ["--left", "kafka://u:\(secret)@127.0.0.1:9/t", "--right", "log:\(log)"]),
            ("k2-verify", ["--left", "log:\(log)", "--right", "log:\(log)", "--truth", "kafka://u:\(secret)@127.0.0.1:9/t"]),
            ("k2-capture", ["binance", "--symbols", "BTCUSDT", "--out", log, "--url", "ws://u:\(secret)@127.0.0.1:9"]),
        ]
        for (program, arguments) in cases {
            for extra in [[], ["--json"]] {
                let run = try ProcessRunner.run(TestEnvironment.productPath(program), arguments + extra)
                let line = "\(program) \(arguments.joined(separator: " ").replacingOccurrences(of: secret, with: "SECRET")) \(extra.joined())"
                XCTAssertEqual(run.status, 2, "\(line): \(run.stderrText.replacingOccurrences(of: secret, with: "SECRET"))")
                XCTAssertFalse(run.stderrText.contains(secret) || run.stdoutText.contains(secret), "\(line) printed the secret")
                XCTAssertTrue(run.stderrText.contains("credentials in the URL are refused"), "\(line): \(run.stderrText)")
            }
        }
    }
}
