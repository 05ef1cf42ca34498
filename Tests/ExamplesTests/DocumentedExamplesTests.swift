import Foundation
import TestSupport
import XCTest

/// The examples of every program's and subcommand's `--help` and of the README run as written: each is taken
/// from the help text (or README.md) itself, so a new example is run without editing this test, and run with
/// sh in a working directory prepared as the examples assume (`ExampleWorkspace`). What the test has to change
/// is in `substitutions` (local stand-ins for the services an example names), each with its reason; what it
/// cannot run is in `notRunReason`, with the reason. Every example must exit 0, or for a server print its address and
/// stop on SIGINT.
final class DocumentedExamplesTests: XCTestCase {
    /// Text replaced in every example before it runs, and why.
    private func substitutions(_ workspace: ExampleWorkspace, simulator: String?) throws -> [(String, String, String)] {
        var table = [
            ("localhost:9092", "localhost:\(workspace.kafkaPort)", "the embedded Kafka listens on a free port: other test processes may hold 9092"),
            ("--port 9092", "--port \(try LocalPort.free())", "likewise for an embedded-kafka example that serves 9092"),
            ("localhost:9093", "localhost:\(workspace.otherKafkaPort)", "the second cluster is another embedded Kafka"),
            ("http://localhost:8081", workspace.registryURL, "the schema registry is scripts/schema_registry_stub.py"),
            ("--out /", "--out ", "absolute output directories (/data/..., /backup/..., /tmp/log) are made in the working directory"),
            ("--metrics-address 127.0.0.1:9464", "--metrics-address 127.0.0.1:\(try LocalPort.free())", "the metrics endpoint listens on a free port"),
        ] + (workspace.remote?.substitutions ?? [])
        if let simulator {
            table.append(("ws://127.0.0.1:18080", simulator, "the exchange is k2-exchange-sim on a free port"))
        }
        return table
    }

    /// Examples not run, and why: each needs a service this machine's tests do not start.
    private func notRunReason(_ example: DocumentedExample, _ workspace: ExampleWorkspace) -> String? {
        let command = example.command.lowercased()
        if command.contains("sasl") { return "needs a SASL_SSL Kafka (the embedded Kafka speaks PLAINTEXT)" }
        if example.arguments.first == "burn-in" {
            return "a burn-in runs for its --duration (minutes to days); BurnInEngineTests runs one in process, make burn-in a short one"
        }
        if let why = workspace.remoteUnavailable, command.contains("postgresql://") || command.contains("rest:http") || command.contains("s3://") {
            return "needs PostgreSQL, S3 or a REST catalog, whose local stand-ins did not start: \(why)"
        }
        return nil
    }

    func testEveryDocumentedExampleRuns() throws {
        let workspace = try ExampleWorkspace()
        defer {
            workspace.stop()
            try? FileManager.default.removeItem(at: workspace.directory)
        }
        var examples: [DocumentedExample] = []
        for program in DocumentedExample.programs {
            let help = try workspace.help("\(program) --help")
            let own = DocumentedExample.fromHelp(help, source: "\(program) --help")
            XCTAssertFalse(own.isEmpty, "\(program) --help shows no example:\n\(help)")
            examples += own
            for subcommand in DocumentedExample.subcommands(inHelp: help) {
                examples += DocumentedExample.fromHelp(try workspace.help("\(program) help \(subcommand)"),
                                                       source: "\(program) help \(subcommand)")
            }
        }
        let readme = try String(contentsOf: TestEnvironment.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let readmeExamples = DocumentedExample.fromMarkdown(readme, source: "README.md")
        XCTAssertFalse(readmeExamples.isEmpty)
        examples += readmeExamples

        // One run per distinct command; k2-verify's first, while Kafka and the tables hold exactly the prepared
        // data (the replay examples add to both).
        var seen = Set<String>()
        let unique = examples.filter { seen.insert($0.command).inserted }
        let ordered = unique.filter { $0.program == "k2-verify" } + unique.filter { $0.program != "k2-verify" }

        var ran: [String] = [], skipped: [String] = []
        for example in ordered {
            if let reason = notRunReason(example, workspace) {
                skipped.append("\(example.command)  [\(example.source)]: \(reason)")
                continue
            }
            let outcome = try run(example, in: workspace)
            ran.append("\(outcome)  \(example.command)  [\(example.source)]")
        }
        print("Substitutions:\n" + (try substitutions(workspace, simulator: "ws://127.0.0.1:PORT (k2-exchange-sim)")
            ).map { "\($0.0) -> \($0.1): \($0.2)" }.joined(separator: "\n"))
        print("Examples run (\(ran.count)):\n" + ran.joined(separator: "\n"))
        print("Examples not run (\(skipped.count)):\n" + skipped.joined(separator: "\n"))
        for program in DocumentedExample.programs {
            XCTAssertTrue(ran.contains { $0.contains("  \(program) ") }, "no example of \(program) ran")
        }
    }

    /// Runs one example; returns how it ended ("exit 0", "served") after asserting it ran as documented.
    private func run(_ example: DocumentedExample, in workspace: ExampleWorkspace) throws -> String {
        var simulator: BackgroundProcess?
        defer { simulator?.stop() }
        var command = example.command
        // A WebSocket capture runs against k2-exchange-sim: the exchange's URL is replaced with --url, and it
        // stops after --max-messages (the example would otherwise run for its --duration or until stopped).
        let arguments = example.arguments
        if example.program == "k2-capture", let source = arguments.first, source == "binance" || source == "kraken" {
            let feed = source == "binance" ? "binance" : (command.contains("--api v2") ? "kraken-v2" : "kraken")
            let sim = try BackgroundProcess(TestEnvironment.productPath("k2-exchange-sim"),
                ["--feed", feed, "--scenario", "continuous", "--count", "1000000", "--interval", "1ms"])
            simulator = sim
            let line = try XCTUnwrap(sim.firstLine(), sim.log)
            let url = String(line.dropFirst("listening ".count))
            if !command.contains("--url ") { command += " --url \(url)" }
            if !command.contains("--max-messages ") { command += " --max-messages 20" }
            for (pattern, replacement, _) in try substitutions(workspace, simulator: url) {
                command = command.replacingOccurrences(of: pattern, with: replacement)
            }
        } else {
            for (pattern, replacement, _) in try substitutions(workspace, simulator: nil) {
                command = command.replacingOccurrences(of: pattern, with: replacement)
            }
        }
        if arguments.first == "embedded-kafka" {
            // A server: it runs until interrupted. It must announce its bootstrap, then stop on SIGINT.
            let server = try workspace.start(command)
            defer { server.stop() }
            let line = server.firstLine()
            XCTAssertEqual(line?.hasPrefix("bootstrap="), true, "\(example.command) [\(example.source)]: \(server.log)")
            kill(server.process.processIdentifier, SIGINT)
            server.process.waitUntilExit()
            XCTAssertTrue([0, 130].contains(server.process.terminationStatus),
                          "\(example.command) [\(example.source)] ended \(server.process.terminationStatus) on SIGINT: \(server.log)")
            return "served"
        }
        if arguments.contains("--follow") {
            // A follower runs until interrupted: it must still be following after a few seconds, then stop on
            // SIGINT with 130 (what it read is committed; a rerun resumes).
            let follower = try workspace.start(command)
            defer { follower.stop() }
            sleep(6)
            XCTAssertTrue(follower.process.isRunning, "\(example.command) [\(example.source)] ended early: \(follower.log)")
            kill(follower.process.processIdentifier, SIGINT)
            follower.process.waitUntilExit()
            XCTAssertEqual(follower.process.terminationStatus, 130,
                           "\(example.command) [\(example.source)] on SIGINT: \(follower.log)")
            return "followed"
        }
        let result = try workspace.shell(command)
        XCTAssertEqual(result.status, 0, """
            \(example.command) [\(example.source)]
            ran as: \(command)
            stdout: \(result.stdoutText.prefix(2000))
            stderr: \(result.stderrText.prefix(4000))
            """)
        return "exit \(result.status)"
    }
}
