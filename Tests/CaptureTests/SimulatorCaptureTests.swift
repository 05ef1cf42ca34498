import Exchanges
import ExchangeSimulator
import Foundation
import SegmentLog
import TestSupport
import XCTest

/// k2-capture against the exchange simulator over loopback: every frame the server sent is in the log,
/// byte-exact and in order, with the connects, disconnects and gaps where they happened.
final class SimulatorCaptureTests: XCTestCase {
    func testBinanceOverWebSocket() throws { try runScripted(feed: .binance, tls: false, scenario: .standard) }
    func testBinanceOverTLS() throws { try runScripted(feed: .binance, tls: true, scenario: .standard) }
    func testKrakenV1OverWebSocket() throws { try runScripted(feed: .krakenV1, tls: false, scenario: .standard) }
    func testKrakenV1OverTLS() throws { try runScripted(feed: .krakenV1, tls: true, scenario: .standard) }
    func testKrakenV2OverWebSocket() throws { try runScripted(feed: .krakenV2, tls: false, scenario: .standard) }
    func testKrakenV2OverTLS() throws { try runScripted(feed: .krakenV2, tls: true, scenario: .standard) }
    func testStalledConnectionIsReplaced() throws { try runScripted(feed: .krakenV2, tls: false, scenario: .stall) }

    /// Plays a script with one connection at a time (a disconnect or stall ends each) and compares the log with
    /// the simulator's manifest token by token: C connect, F frame, R reply, G gap, D disconnect.
    private func runScripted(feed: ExchangeFeed, tls: Bool, scenario standard: StandardScenario) throws {
        let scenario = standard.scenario(feed: feed)
        let simulator = ExchangeSimulator(scenario: scenario, tls: tls)
        try simulator.start()
        defer { simulator.stop() }
        let directory = try TestEnvironment.temporaryDirectory("capture-\(feed.rawValue)")
        defer { try? FileManager.default.removeItem(at: directory) }

        // Frames the script sends, plus per connection (the script opens two) Kraken's status and two replies.
        let scriptFrames = (0..<scenario.count).filter { if case .frame = scenario.step($0) { return true } else { return false } }.count
        let expectedMessages = scriptFrames + (feed == .binance ? 0 : 2 * 3)
        var arguments = CaptureHarness.arguments(feed: feed) + [
            "--url", simulator.url, "--out", directory.path, "--max-messages", "\(expectedMessages)", "--json",
            "--stall-timeout", "1s", "--segment-bytes", "4K", "--duration", "120s",
        ]
        if let certificate = simulator.certificatePath { arguments += ["--ca-file", certificate] }
        let result = try ProcessRunner.run(CaptureHarness.capturePath, arguments)
        XCTAssertEqual(result.status, 0, result.stderrText)

        let sent = simulator.manifest.snapshot
        let (records, statistics) = try CaptureHarness.readLog(directory)
        XCTAssertEqual(statistics.tornTails, 0, "the log must be sealed")

        // 1. Byte-exact and in order: every text frame sent, and nothing else, as data or reply records.
        let sentFrames = sent.filter { $0.kind == .frame || $0.kind == .reply || $0.kind == .status }
        let recordedFrames = records.filter { $0.kind == .data || $0.kind == .subscribeReply }
        XCTAssertEqual(recordedFrames.count, sentFrames.count)
        XCTAssertEqual(recordedFrames.map(\.payload), sentFrames.map(\.bytes))
        XCTAssertEqual(recordedFrames.map { $0.kind == .subscribeReply }, sentFrames.map { $0.kind == .reply })
        XCTAssertTrue(records.allSatisfy { $0.source == feed.sourceName })

        // 2. Control records where they happened, gaps right before the frame that revealed them.
        let gaps = CaptureHarness.expectedGaps(feed: feed, frames: sentFrames.map(\.bytes))
        var expected: [String] = []
        var connection = 0
        for (index, entry) in sentFrames.enumerated() {
            if entry.connection != connection {
                if connection != 0 { expected.append("D") }
                expected.append("C")
                connection = entry.connection
            }
            for gap in gaps[index] ?? [] { expected.append("G \(gap.stream) \(gap.expected) \(gap.seen)") }
            expected.append(entry.kind == .reply ? "R" : "F")
        }
        expected.append("D")
        let tokens = records.map { record -> String in
            switch record.kind {
            case .data: return "F"
            case .subscribeReply: return "R"
            case .connect: return "C"
            case .disconnect: return "D"
            case .gap: return "G \(record.stream) \(record.gapExpected ?? -1) \(record.gapSeen ?? -1)"
            }
        }
        XCTAssertEqual(tokens, expected)
        if feed != .krakenV1 && standard == .standard { XCTAssertFalse(gaps.isEmpty, "the script has trade-id gaps") }

        // 3. The disconnect says why; the malformed frame is kept flagged; pings were answered.
        let reasons = records.filter { $0.kind == .disconnect }.map { String(decoding: $0.payload, as: UTF8.self) }
        XCTAssertEqual(reasons.count, 2)
        XCTAssertTrue(reasons.last!.contains("max-messages"), reasons.last!)
        if standard == .stall { XCTAssertTrue(reasons[0].contains("stalled"), reasons[0]) }
        let malformed = records.filter { $0.flags.contains(.malformed) }
        let connects = records.filter { $0.kind == .connect }.map { String(decoding: $0.payload, as: UTF8.self) }
        XCTAssertTrue(connects.allSatisfy { $0.contains("\"url\":\"\(simulator.url)") }, "\(connects)")
        let summary = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        XCTAssertEqual(JSONReportKeys.keysNotSnakeCase(summary ?? [:]), [])
        XCTAssertEqual(summary?["program"] as? String, "k2-capture")
        XCTAssertEqual(summary?["report_format"] as? Int, 2)
        XCTAssertEqual(summary?["messages"] as? Int, expectedMessages)
        XCTAssertEqual(summary?["gaps"] as? Int, gaps.values.reduce(0) { $0 + $1.count })
        XCTAssertEqual(summary?["reconnects"] as? Int, 1)
        if standard == .standard {
            XCTAssertEqual(malformed.count, 1)
            XCTAssertEqual(summary?["malformed"] as? Int, 1)
            if case .frame(_, let bytes) = FrameFactory(feed: feed).malformed { XCTAssertEqual(malformed.first?.payload, bytes) }
            try CaptureHarness.waitFor("the pong") { simulator.manifest.pongsReceived == 1 }
        }
    }

    /// Make-before-break before --max-connection-age, the metrics endpoint, and SIGTERM sealing the log.
    ///
    /// Nothing here races the clock: the script waits for the replacement connection instead of outlasting
    /// the age limit, the capture closes the old connection only once both delivered a common frame, and the
    /// script ends by dropping the connection, so the capture has read every frame once it has reconnected.
    func testMakeBeforeBreakMetricsAndSigterm() throws {
        let factory = FrameFactory(feed: .binance)
        var steps: [SimulatorStep] = []
        func trades(_ range: Range<Int>) {
            for index in range {
                steps.append(factory.trade(instrument: index % 2, tradeIds: [Int64(1_000_000 + index / 2)], index: index))
            }
        }
        trades(0..<40)
        steps.append(.awaitConnections(2))   // the replacement, opened once the first connection is 1 s old
        trades(40..<100)
        steps.append(.disconnect)             // the capture reconnects after reading all it was sent
        let scenario = SimulatorScenario(feed: .binance, steps: steps, intervalNanos: 2_000_000)
        let simulator = ExchangeSimulator(scenario: scenario, tls: false)
        try simulator.start()
        defer { simulator.stop() }
        let directory = try TestEnvironment.temporaryDirectory("capture-mbb")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try CaptureHarness.freePort()
        let capture = try BackgroundProcess(CaptureHarness.capturePath, CaptureHarness.arguments(feed: .binance) + [
            "--url", simulator.url, "--out", directory.appendingPathComponent("log").path, "--max-connection-age", "1s",
            "--metrics-address", "127.0.0.1:\(port)", "--json",
        ], directory: directory)

        try simulator.waitUntilFinished()
        // Every connection that was sent frames ends closed (the old one at the handover, the replacement by the
        // script), and the capture records a disconnect only after reading to the end or, at the handover, once
        // the replacement holds the rest. So once it has counted that many disconnects and opened one more
        // connection, every frame it will ever record is recorded, and the last connection is open.
        let framed = Set(simulator.manifest.snapshot.filter { $0.kind == .frame }.map(\.connection)).count
        func scalar(_ metrics: String, _ name: String) -> Int? {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + "{") }.flatMap { Int($0.split(separator: " ").last ?? "") }
        }
        var metrics = ""
        try CaptureHarness.waitFor("the capture to reconnect after the script's disconnect") {
            metrics = try ProcessRunner.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"]).stdoutText
            return (scalar(metrics, "k2_capture_disconnects_total") ?? 0) >= framed
                && (scalar(metrics, "k2_capture_connects_total") ?? 0) > framed
        }
        for stream in ["btcusdt@trade", "ethusdt@trade"] {
            XCTAssertTrue(metrics.contains("k2_capture_last_message_age_seconds{source=\"binance\",stream=\"\(stream)\"}"), metrics)
            XCTAssertTrue(metrics.contains("k2_capture_gaps_total{source=\"binance\",stream=\"\(stream)\"} 0\n"), metrics)
        }
        XCTAssertEqual(scalar(metrics, "k2_capture_reconnects_total"), 1, metrics)
        XCTAssertTrue(metrics.contains("# HELP k2_capture_messages_total Messages recorded"), "swift-prometheus's text with the help lines: \(metrics)")

        kill(capture.process.processIdentifier, SIGTERM)
        XCTAssertEqual(capture.wait(), 130, capture.stderr)
        let (records, statistics) = try CaptureHarness.readLog(directory.appendingPathComponent("log"))
        XCTAssertEqual(statistics.tornTails, 0, "SIGTERM must seal the log")

        // Every distinct frame is recorded; nothing recorded was not sent; the overlap is recorded twice.
        let sent = simulator.manifest.snapshot.filter { $0.kind == .frame }
        let distinct = Set(sent.map(\.bytes))
        XCTAssertEqual(distinct.count, 100)
        let data = records.filter { $0.kind == .data }
        XCTAssertEqual(Set(data.map(\.payload)), distinct)
        XCTAssertGreaterThan(data.count, distinct.count, "the overlap is recorded on both connections")
        XCTAssertLessThanOrEqual(data.count, sent.count)
        for stream in ["btcusdt@trade", "ethusdt@trade"] {
            let count = data.filter { $0.stream == stream }.count
            XCTAssertTrue(metrics.contains("k2_capture_messages_total{source=\"binance\",stream=\"\(stream)\"} \(count)\n"), metrics)
        }
        XCTAssertEqual(Set(sent.map(\.connection)), [1, 2], "frames went to the first connection and its replacement")
        XCTAssertEqual(sent.filter { $0.connection == 2 }.count, 60, "the replacement got every frame after it subscribed")
        // The replacement connected before the old connection was closed, and the overlap is recorded.
        let controls = records.filter { $0.kind == .connect || $0.kind == .disconnect }
            .map { ($0.kind, String(decoding: $0.payload, as: UTF8.self)) }
        guard let secondConnect = controls.firstIndex(where: { $0.0 == .connect && $0.1.contains("\"connection\":2") }),
              let firstDisconnect = controls.firstIndex(where: { $0.0 == .disconnect && $0.1.contains("\"connection\":1") }) else {
            return XCTFail("missing control records: \(controls)")
        }
        XCTAssertLessThan(secondConnect, firstDisconnect)
        XCTAssertTrue(controls[firstDisconnect].1.contains("replaced by connection 2 (--max-connection-age)"), controls[firstDisconnect].1)
        XCTAssertTrue(controls.last!.1.contains("signal"), "\(controls.last!)")
        let summary = try JSONSerialization.jsonObject(with: Data(capture.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(summary?["stop_reason"] as? String, "signal")
        XCTAssertEqual(summary?["messages"] as? Int, data.count)
        XCTAssertEqual(summary?["gaps"] as? Int, 0)
    }

    /// The make-before-break fallback: after the replacement subscribes, ETHUSDT goes quiet, so the two
    /// connections never share a frame on every stream. After --handover-timeout the old connection is
    /// closed anyway (the reason says so), and no BTCUSDT frame is lost: the replacement had all of them.
    func testHandoverFallsBackAfterTheTimeoutWhenAStreamIsQuiet() throws {
        let factory = FrameFactory(feed: .binance)
        var steps: [SimulatorStep] = (0..<40).map {
            factory.trade(instrument: $0 % 2, tradeIds: [Int64(1_000_000 + $0 / 2)], index: $0)
        }
        steps.append(.awaitConnections(2))
        // BTCUSDT only, for about 3 s: longer than the 1 s timeout plus a watchdog tick.
        steps += (40..<190).map { factory.trade(instrument: 0, tradeIds: [Int64(1_000_000 + $0)], index: $0) }
        steps.append(.disconnect)
        let simulator = ExchangeSimulator(scenario: SimulatorScenario(feed: .binance, steps: steps, intervalNanos: 20_000_000), tls: false)
        try simulator.start()
        defer { simulator.stop() }
        let directory = try TestEnvironment.temporaryDirectory("capture-handover-timeout")
        defer { try? FileManager.default.removeItem(at: directory) }
        let port = try CaptureHarness.freePort()
        let capture = try BackgroundProcess(CaptureHarness.capturePath, CaptureHarness.arguments(feed: .binance) + [
            "--url", simulator.url, "--out", directory.appendingPathComponent("log").path, "--max-connection-age", "1s",
            // --stall-timeout 2s only makes the watchdog tick every 0.5 s.
            "--handover-timeout", "1s", "--stall-timeout", "2s", "--metrics-address", "127.0.0.1:\(port)",
        ], directory: directory)

        try simulator.waitUntilFinished()
        let framed = Set(simulator.manifest.snapshot.filter { $0.kind == .frame }.map(\.connection)).count
        func scalar(_ metrics: String, _ name: String) -> Int? {
            metrics.split(separator: "\n").first { $0.hasPrefix(name + "{") }.flatMap { Int($0.split(separator: " ").last ?? "") }
        }
        try CaptureHarness.waitFor("the capture to reconnect after the script's disconnect") {
            let metrics = try ProcessRunner.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(port)/metrics"]).stdoutText
            return (scalar(metrics, "k2_capture_disconnects_total") ?? 0) >= framed
                && (scalar(metrics, "k2_capture_connects_total") ?? 0) > framed
        }
        kill(capture.process.processIdentifier, SIGTERM)
        XCTAssertEqual(capture.wait(), 130, capture.stderr)
        XCTAssertTrue(capture.stderr.contains("handover-without-overlap"), capture.stderr)

        let (records, _) = try CaptureHarness.readLog(directory.appendingPathComponent("log"))
        let sent = simulator.manifest.snapshot.filter { $0.kind == .frame }
        XCTAssertEqual(Set(sent.map(\.bytes)).count, 190)
        XCTAssertEqual(Set(records.filter { $0.kind == .data }.map(\.payload)), Set(sent.map(\.bytes)), "a frame was lost")
        let disconnects = records.filter { $0.kind == .disconnect }.map { String(decoding: $0.payload, as: UTF8.self) }
        let first = disconnects.first { $0.contains("\"connection\":1") }
        XCTAssertTrue(first?.contains("replaced by connection 2") == true && first?.contains("no common frame within 1 s") == true,
                      "\(disconnects)")
    }

    /// Frames above --max-frame-bytes are kept byte-exact with the oversized flag (and not parsed).
    func testOversizedFramesAreKeptFlagged() throws {
        let scenario = StandardScenario.continuous.scenario(feed: .krakenV1, count: 40, intervalNanos: 0)
        let simulator = ExchangeSimulator(scenario: scenario, tls: false)
        try simulator.start()
        defer { simulator.stop() }
        let directory = try TestEnvironment.temporaryDirectory("capture-oversized")
        defer { try? FileManager.default.removeItem(at: directory) }
        let limit = 120
        let result = try ProcessRunner.run(CaptureHarness.capturePath, CaptureHarness.arguments(feed: .krakenV1) + [
            "--url", simulator.url, "--out", directory.path, "--max-messages", "43", "--max-frame-bytes", "\(limit)",
            "--duration", "120s", "--json",
        ])
        XCTAssertEqual(result.status, 0, result.stderrText)
        let sent = simulator.manifest.snapshot.filter { $0.kind != .ping }
        let recorded = try CaptureHarness.readLog(directory).records.filter { $0.kind == .data || $0.kind == .subscribeReply }
        XCTAssertEqual(recorded.map(\.payload), sent.map(\.bytes))
        XCTAssertEqual(recorded.map { $0.flags.contains(.oversized) }, sent.map { $0.bytes.count > limit })
        XCTAssertTrue(recorded.contains { $0.flags.contains(.oversized) } && recorded.contains { !$0.flags.contains(.oversized) })
        let summary = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        XCTAssertEqual(summary?["oversized"] as? Int, sent.filter { $0.bytes.count > limit }.count)
    }

    /// An unwritable directory: a clear error naming it, non-zero exit.
    func testUnwritableDirectoryIsAClearError() throws {
        let parent = try TestEnvironment.temporaryDirectory("capture-ro")
        defer { try? FileManager.default.removeItem(at: parent) }
        let file = parent.appendingPathComponent("not-a-directory")
        FileManager.default.createFile(atPath: file.path, contents: Data("x".utf8))
        let target = file.appendingPathComponent("log").path
        let result = try ProcessRunner.run(CaptureHarness.capturePath, ["binance", "--url", "ws://127.0.0.1:9", "--out", target, "--duration", "1s"])
        XCTAssertEqual(result.status, 2, result.stderrText)
        XCTAssertTrue(result.stderrText.contains(target), result.stderrText)
    }
}
