import Exchanges
import ExchangeSimulator
import Foundation
import SegmentLog
import TestSupport
import XCTest

/// `kill -9` of a WebSocket capture at random moments, each time started again on the same log, against an
/// exchange that keeps trading: a live stream cannot be replayed, so what the capture misses while it is dead is
/// lost, but never silently. Every trade id the exchange sent is either recorded once or inside a gap record the
/// next run wrote (its gap detection continues from the log's last ids), and the log reads back whole.
final class CaptureKillTests: XCTestCase {
    func testSigkillLoopLosesNoTradeWithoutAGapRecord() throws {
        let factory = FrameFactory(feed: .binance)
        let rounds = TestEnvironment.killRounds(5)
        let perStream = 1200 * (rounds + 1)
        // Frame i: stream i % 2, trade id 1,000,000 + i / 2; about 2.4 s of trading per round at 1 frame per ms.
        let steps = (0..<(2 * perStream)).map { factory.trade(instrument: $0 % 2, tradeIds: [Int64(1_000_000 + $0 / 2)], index: $0) }
        let simulator = ExchangeSimulator(scenario: SimulatorScenario(feed: .binance, steps: steps, intervalNanos: 1_000_000), tls: false)
        try simulator.start()
        defer { simulator.stop() }
        let directory = try TestEnvironment.temporaryDirectory("capture-kill")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("log").path
        func start(_ run: Int) throws -> BackgroundProcess {
            let runDirectory = directory.appendingPathComponent("run\(run)")
            try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
            return try BackgroundProcess(CaptureHarness.capturePath, CaptureHarness.arguments(feed: .binance) + [
                "--url", simulator.url, "--out", log, "--json"], directory: runDirectory)
        }

        // Kill it `rounds` times (5; 50 with K2_TORTURE=1), each mid-stream, 1.1-2 s after this run was first sent
        // frames: after the writer's first 1 s sync, so each run leaves records (a capture that finds nothing in
        // its log cannot know what it missed before its first frame), and before its next.
        var generator = SystemRandomNumberGenerator()
        var kills = 0
        for run in 0..<rounds {
            let sentBefore = simulator.manifest.snapshot.filter { $0.kind == .frame }.count
            let capture = try start(run)
            try CaptureHarness.waitFor("run \(run) to receive frames") {
                simulator.manifest.snapshot.filter { $0.kind == .frame }.count > sentBefore + 50 || capture.process.isRunning == false
            }
            Thread.sleep(forTimeInterval: Double.random(in: 1.1...2.0, using: &generator))
            guard capture.process.isRunning else { return XCTFail("run \(run) ended by itself: \(capture.stderr)") }
            kill(capture.process.processIdentifier, SIGKILL)
            XCTAssertEqual(capture.wait(), SIGKILL, "killed by the signal")
            kills += 1
        }
        // The last run records the rest; stopped with SIGTERM once the exchange sent everything and it has read it.
        let last = try start(rounds)
        try simulator.waitUntilFinished()
        Thread.sleep(forTimeInterval: 1)
        kill(last.process.processIdentifier, SIGTERM)
        XCTAssertEqual(last.wait(), 130, last.stderr)
        XCTAssertTrue(last.stderr.contains("gap-detection-continued"), last.stderr)

        let (records, _) = try CaptureHarness.readLog(URL(fileURLWithPath: log))
        var recorded: [String: [Int64]] = [:]
        var gapped: [String: [ClosedRange<Int64>]] = [:]
        for record in records {
            switch record.kind {
            case .data:
                guard let object = try? JSONSerialization.jsonObject(with: Data(record.payload)) as? [String: Any],
                      let data = object["data"] as? [String: Any], let id = (data["t"] as? NSNumber)?.int64Value else { continue }
                recorded[record.stream, default: []].append(id)
            case .gap:
                guard let expected = record.gapExpected, let seen = record.gapSeen else { return XCTFail("a gap record without its range") }
                gapped[record.stream, default: []].append(expected...(seen - 1))
            default:
                continue
            }
        }
        XCTAssertEqual(kills, rounds)
        XCTAssertFalse(gapped.isEmpty, "frames were sent while no capture ran, so gaps were recorded")
        for stream in ["btcusdt@trade", "ethusdt@trade"] {
            let ids = recorded[stream] ?? []
            XCTAssertEqual(ids, ids.sorted(), "\(stream): in the order sent")
            XCTAssertEqual(Set(ids).count, ids.count, "\(stream): no trade recorded twice")
            var covered = Set(ids)
            for range in gapped[stream] ?? [] {
                for id in range { XCTAssertTrue(covered.insert(id).inserted, "\(stream): id \(id) both recorded and in a gap") }
            }
            let sent = Set((0..<Int64(perStream)).map { 1_000_000 + $0 })
            XCTAssertEqual(covered.count, sent.count, "\(stream): \(ids.count) recorded, gaps \(gapped[stream] ?? [])")
            XCTAssertEqual(sent.subtracting(covered).sorted().prefix(20), [], "\(stream): ids sent, neither recorded nor in a gap record")
            XCTAssertEqual(covered.subtracting(sent).sorted().prefix(20), [], "\(stream): ids recorded or in a gap that were never sent")
        }
    }
}
