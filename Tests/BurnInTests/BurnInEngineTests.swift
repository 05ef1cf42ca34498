import BurnIn
import Foundation
import Iceberg
import K2CLI
import K2Core
import MetricsEndpoint
import NIOPosix
import Prometheus
import Replay
import SegmentLog
import TestSupport
import XCTest

/// The burn-in engine in the test process against the embedded Kafka and a local warehouse: a short run at a
/// low rate with both follow backfills, checked against what Kafka holds, its metrics served over HTTP; and a
/// run whose tables never grow, which must fail.
final class BurnInEngineTests: XCTestCase {
    /// A Binance log of `trades` frames over `symbols`, 1 ms apart.
    private func writeLog(_ directory: String, trades: Int, symbols: [String]) throws {
        let writer = try SegmentLogWriter(directory: directory, diagnostics: { _ in })
        var ids = [Int64](repeating: 5_000_000, count: symbols.count)
        for index in 0..<trades {
            let slot = index % symbols.count
            ids[slot] += 1
            let receive = Int64(1_707_472_800_000 + index) * 1_000_000
            let ms = receive / 1_000_000
            let frame = #"{"stream":"\#(symbols[slot].lowercased())@trade","data":{"e":"trade","E":\#(ms),"s":"\#(symbols[slot])","t":\#(ids[slot]),"p":"4200\#(index % 10).5","q":"0.0\#(index % 7 + 1)","T":\#(ms - 1),"m":\#(index % 2 == 0),"M":true}}"#
            try writer.append(LogRecord(receiveTimeNanos: receive, source: "binance", stream: symbols[slot].lowercased() + "@trade",
                                        payload: Array(frame.utf8)))
        }
        try writer.close()
    }

    private func configuration(_ directory: URL, trades: Int) throws -> BurnInConfiguration {
        let log = directory.appendingPathComponent("log").path
        try writeLog(log, trades: trades, symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"])
        let warehouse = directory.appendingPathComponent("wh").path
        var c = BurnInConfiguration(log: log, catalog: CatalogOpener(catalog: nil, catalogName: nil, warehouse: warehouse),
                                    tables: [BurnInTable(name: "market_data.bronze_binance_trades", style: .spark),
                                             BurnInTable(name: "market_data.bronze_binance_trades_flink", style: .flink)],
                                    stateDirectory: directory.appendingPathComponent("state").path)
        c.ratePerSecond = 400
        c.durationSeconds = 14
        c.warmupSeconds = 3
        c.verifyIntervalSeconds = 6
        c.commitSeconds = 1
        c.drainSeconds = 60
        return c
    }

    func testShortBurnInPassesWithEveryCheckCleanAndServesItsMetrics() throws {
        let directory = try TestEnvironment.temporaryDirectory("burnin")
        defer { try? FileManager.default.removeItem(at: directory) }
        // 2,400 trades at 400/s: a pass takes 6 s, so 14 s hold two whole passes and part of a third (re-stamped).
        let c = try configuration(directory, trades: 2400)
        let registry = PrometheusCollectorRegistry()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let server = try MetricsHTTPServer.start(on: group.next(), host: "127.0.0.1", port: 0) { registry.emitToString() }
        defer { server.close() }
        let notes = NoteLog()
        let engine = BurnInEngine(configuration: c, stop: CancellationSignal(), metrics: PrometheusMetricsFactory(registry: registry),
                                  diagnostics: { notes.append($0) })
        let report = try waitForAsync { try await engine.run() }

        XCTAssertTrue(report.passed, "\(report.failures)\n\(notes.text)")
        XCTAssertFalse(report.interrupted)
        XCTAssertGreaterThanOrEqual(report.passesDone, 2, "whole passes in 14 s")
        // Every message the replay produced is a row of each table, checked by the parity checks: at least one
        // periodic one per table beside the final one over the whole topic, all clean.
        XCTAssertGreaterThan(report.messagesProduced, 4000)
        for table in report.tables {
            XCTAssertEqual(table.rows, report.messagesProduced, table.name)
            XCTAssertEqual(table.finalLag, 0, table.name)
            XCTAssertGreaterThan(table.rowsLatencyMeasured, 0, table.name)
            XCTAssertGreaterThan(table.latencyMs.max, 0, table.name)
            XCTAssertLessThanOrEqual(table.latencyMs.p50, table.latencyMs.p99)
            // A follow backfill stamps each row when it reads it, after the message was produced: a stamp per
            // commit preceded the Kafka time of most of the commit's rows, and the median came out 0.
            XCTAssertGreaterThan(table.latencyMs.p50, 0, table.name)
            let checks = report.verifies.filter { $0.table == table.name }
            XCTAssertGreaterThanOrEqual(checks.count, 2, "\(table.name): \(checks)")
            XCTAssertTrue(checks.allSatisfy(\.parity), "\(checks)")
            XCTAssertNil(checks.last!.offsets, "the last check covers the whole topic")
            XCTAssertEqual(checks.last!.rowsKafka, report.messagesProduced)
            XCTAssertNotNil(checks.first!.offsets, "a periodic check covers the newer half of what the topic holds, up to what the table committed")
        }
        // About 400 msg/s after warm-up (seconds are sampled, so one second may hold a little more or less; the
        // start of a pass, which opens its producer and checkpoint, costs a fraction of a second).
        let steady = report.samples.filter { $0.t > 4 && $0.t < 13 }.map(\.rate)
        XCTAssertFalse(steady.isEmpty)
        let mean = steady.reduce(0, +) / Double(steady.count)
        XCTAssertEqual(mean, 400, accuracy: 40, "\(steady)")
        XCTAssertGreaterThan(report.memory.peak, 0)
        // CPU per part, by thread name: each part's own thread is told apart (the follow backfills of a few
        // thousand rows use less than the tenth of a second reported), and the replay's did work.
        for part in ["replay", "spark", "flink"] { XCTAssertNotNil(report.cpuSecondsByPart[part], "\(part): \(report.cpuSecondsByPart)") }
        XCTAssertGreaterThan(report.cpuSecondsByPart["replay"] ?? 0, 0, "\(report.cpuSecondsByPart)")

        // The live figures: swift-prometheus's text at /metrics, and /healthz.
        let metrics = try ChildProcess.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(server.port)/metrics"])
        func value(_ name: String, _ labels: [String]) -> Double? {
            metrics.stdout.split(separator: "\n").first { line in
                line.hasPrefix(name) && labels.allSatisfy { line.contains($0) }
            }.flatMap { Double($0.split(separator: " ").last!) }
        }
        XCTAssertEqual(value("k2_burnin_table_rows{", [#"table="market_data.bronze_binance_trades""#, #"style="spark""#]),
                       Double(report.messagesProduced), metrics.stdout)
        XCTAssertEqual(value("k2_burnin_verifies_total", []), Double(report.verifies.count), metrics.stdout)
        let health = try ChildProcess.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(server.port)/healthz"])
        XCTAssertEqual(health.stdout, "200")

        // The page a person opens: the four charts and the checks.
        let html = BurnInPage.html(report)
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 4)
        XCTAssertTrue(html.contains("PASSED"))
        // The JSON round-trips.
        let data = try JSONEncoder().encode(report)
        let decoded = try JSONDecoder().decode(BurnInReport.self, from: data)
        XCTAssertEqual(decoded.messagesProduced, report.messagesProduced)
        XCTAssertEqual(decoded.verifies.count, report.verifies.count)
    }

    func testTablesThatDoNotGrowFailTheBurnIn() throws {
        let directory = try TestEnvironment.temporaryDirectory("burnin-stall")
        defer { try? FileManager.default.removeItem(at: directory) }
        var c = try configuration(directory, trades: 500)
        // Nothing writes the tables (a real stack whose jobs are down).
        c.runBackfills = false
        c.durationSeconds = 8
        c.stallSeconds = 3
        c.drainSeconds = 2
        let engine = BurnInEngine(configuration: c, stop: CancellationSignal(), metrics: PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()),
                                  diagnostics: { _ in })
        let report = try waitForAsync { try await engine.run() }
        XCTAssertFalse(report.passed)
        for table in c.tables {
            XCTAssertTrue(report.failures.contains { $0.contains("table \(table.name) stopped growing") }, "\(report.failures)")
        }
        XCTAssertTrue(report.verifies.contains { !$0.parity }, "the last check finds the tables short")
        XCTAssertTrue(BurnInPage.html(report).contains("FAILED"))
    }
}

/// The engine's notes, collected from its threads.
final class NoteLog: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var text: String { lock.withLock { lines.joined(separator: "\n") } }
}
