import Exchanges
import ExchangeSimulator
import Foundation
import SegmentLog
import TestSupport
import XCTest

/// Runs `k2-capture` as a child process against an in-process `ExchangeSimulator` and reads back what it wrote.
enum CaptureHarness {
    static var capturePath: String { TestEnvironment.productPath("k2-capture") }

    static func arguments(feed: ExchangeFeed) -> [String] {
        switch feed {
        case .binance: return ["binance", "--symbols", "BTCUSDT,ETHUSDT"]
        case .krakenV1: return ["kraken", "--api", "v1", "--pairs", "XBT/USD,ETH/USD"]
        case .krakenV2: return ["kraken", "--api", "v2", "--pairs", "BTC/USD,ETH/USD"]
        }
    }

    static func readLog(_ directory: URL) throws -> (records: [LogRecord], statistics: ReadStatistics) {
        var diagnostics: [String] = []
        let reader = try SegmentLogReader(directory: directory.path) { diagnostics.append($0) }
        var records: [LogRecord] = []
        while let record = try reader.next() { records.append(record) }
        return (records, reader.statistics)
    }

    /// A free TCP port on 127.0.0.1 (bound and released; the capture binds it right after).
    static func freePort() throws -> Int { try LocalPort.free() }

    /// Waits (bounded) for a condition that an asynchronous peer makes true; not a timing assertion.
    static func waitFor(_ what: String, seconds: Double = 60, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        XCTFail("gave up waiting for \(what)")
    }

    /// Trade ids per stream found in the frames with JSONSerialization (independent of FrameScanner), and
    /// the gaps they imply: (stream, expected, seen) keyed by the index of the frame that reveals it.
    static func expectedGaps(feed: ExchangeFeed, frames: [[UInt8]]) -> [Int: [(stream: String, expected: Int64, seen: Int64)]] {
        var last: [String: Int64] = [:]
        var gaps: [Int: [(String, Int64, Int64)]] = [:]
        for (index, frame) in frames.enumerated() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(frame)) else { continue }
            var ids: [(String, Int64)] = []
            switch feed {
            case .binance:
                if let top = object as? [String: Any], let stream = top["stream"] as? String, let data = top["data"] as? [String: Any],
                   data["e"] as? String == "trade", let id = (data["t"] as? NSNumber)?.int64Value {
                    ids.append((stream, id))
                }
            case .krakenV2:
                if let top = object as? [String: Any], top["channel"] as? String == "trade", let data = top["data"] as? [[String: Any]] {
                    for trade in data {
                        if let symbol = trade["symbol"] as? String, let id = (trade["trade_id"] as? NSNumber)?.int64Value { ids.append((symbol, id)) }
                    }
                }
            case .krakenV1:
                break
            }
            for (stream, id) in ids {
                if let previous = last[stream], id > previous + 1 { gaps[index, default: []].append((stream, previous + 1, id)) }
                if id > (last[stream] ?? Int64.min) { last[stream] = id }
            }
        }
        return gaps
    }
}

/// A child process left running (the capture under SIGTERM), its output collected in files.
final class BackgroundProcess {
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL

    init(_ executable: String, _ arguments: [String], directory: URL) throws {
        stdoutURL = directory.appendingPathComponent("stdout.txt")
        stderrURL = directory.appendingPathComponent("stderr.txt")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
}
