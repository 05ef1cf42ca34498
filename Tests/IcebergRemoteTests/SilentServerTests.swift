import Foundation
import TestSupport
import XCTest

/// A catalog or S3 endpoint that accepts connections and never answers (a hung gateway): the programs give
/// up within the documented deadline (30 s of silence) with exit 2 naming the endpoint, and SIGINT ends
/// them within a second or two with exit 130.
final class SilentServerTests: XCTestCase {
    /// Starts a loopback listener that accepts and holds every connection; returns it and its port.
    func startSilentServer() throws -> (BackgroundProcess, Int) {
        let server = try BackgroundProcess("/usr/bin/python3", ["-c", """
            import socket, sys
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
            print(s.getsockname()[1], flush=True)
            held = []
            while True:
                c, _ = s.accept(); held.append(c)
            """])
        addTeardownBlock { server.stop() }
        let port = try XCTUnwrap(Int(try XCTUnwrap(server.firstLine(), server.log).trimmingCharacters(in: .whitespaces)))
        return (server, port)
    }

    /// Runs a program, sends SIGINT after `after` seconds, and returns its status and how long it took to end.
    func interrupt(_ program: String, _ arguments: [String], environment: [String: String] = [:], after: Double) throws -> (Int32, Double) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: TestEnvironment.productPath(program))
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: after)
        XCTAssertTrue(process.isRunning, "\(program) ended before it was interrupted")
        let sent = Date()
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        return (process.terminationStatus, Date().timeIntervalSince(sent))
    }

    func testSilentRESTCatalogGivesUpAfterItsDeadlineAndSIGINTEndsTheWait() throws {
        let (_, port) = try startSilentServer()
        let catalog = "rest:http://127.0.0.1:\(port)"
        let started = Date()
        let run = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"), ["--catalog", catalog, "--left", "a.b", "--right", "a.c"])
        let took = Date().timeIntervalSince(started)
        XCTAssertEqual(run.status, 2, run.stderrText)
        XCTAssertTrue(run.stderrText.contains("127.0.0.1:\(port)"), run.stderrText)
        XCTAssertLessThan(took, 45, "a silent catalog held k2-verify \(took) s")

        let (verifyStatus, verifyTook) = try interrupt("k2-verify", ["--catalog", catalog, "--left", "a.b", "--right", "a.c"], after: 1)
        XCTAssertEqual(verifyStatus, 130)
        XCTAssertLessThan(verifyTook, 2.5)

        let log = try TestEnvironment.temporaryDirectory("silent-rest")
        defer { try? FileManager.default.removeItem(at: log) }
        _ = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), ["generate-log", "--out", log.path, "--trades", "100"])
        let (replayStatus, replayTook) = try interrupt("k2-replay", [
            "--from", log.path, "--to", "iceberg", "--catalog", catalog, "--table", "market_data.t", "--style", "spark",
            "--create", "--schema-id", "1"], after: 1.5)
        XCTAssertEqual(replayStatus, 130)
        XCTAssertLessThan(replayTook, 2.5)
    }

    func testSIGINTEndsAWaitOnASilentS3Endpoint() throws {
        let (_, port) = try startSilentServer()
        let directory = try TestEnvironment.temporaryDirectory("silent-s3")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log").path
        _ = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), ["generate-log", "--out", log, "--trades", "100"])
        let (status, took) = try interrupt("k2-replay", [
            "--from", log, "--to", "iceberg", "--catalog", "sqlite:" + directory.appendingPathComponent("c.db").path,
            "--warehouse", "s3://warehouse", "--s3-endpoint", "http://127.0.0.1:\(port)", "--table", "market_data.t",
            "--style", "spark", "--create", "--schema-id", "1"],
            environment: ["AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "us-east-1"], after: 2)
        XCTAssertEqual(status, 130)
        XCTAssertLessThan(took, 2.5)
    }
}
