import Foundation
@testable import SegmentLog
import TestSupport
import XCTest

/// Drives the built `k2-compact` binary against real logs.
final class K2CompactTests: XCTestCase {
    var tool: String { TestEnvironment.productPath("k2-compact") }
    var dirs: [String] = []

    override func setUpWithError() throws {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "build k2-compact first (swift build)")
    }

    override func tearDown() {
        for d in dirs { try? FileManager.default.removeItem(atPath: d) }
    }

    private func newDir(_ name: String) throws -> String {
        let d = try TestEnvironment.temporaryDirectory(name).path
        dirs.append(d)
        return d
    }

    struct Key: Hashable { var source: String; var stream: String; var sequence: UInt64; var payload: [UInt8] }

    /// A capture with overlaps: Binance trades repeated after a "reconnect", Kafka offsets read twice, a repeated
    /// Kraken v1 frame; heartbeats and control records repeat by nature and must stay.
    /// Returns the records as written (with sequences) and the subset a de-duplication must keep.
    private func writeCapture(_ dir: String, scale: Int = 1, segmentBytes: Int64 = 4096, startTime: Int64 = 1_707_472_723_000_000_000) throws -> (all: [LogRecord], kept: [LogRecord]) {
        var input: [(LogRecord, duplicate: Bool)] = []
        var time = startTime
        func add(_ source: String, _ stream: String, _ payload: String, kind: RecordKind = .data, kafka: KafkaCoordinates? = nil, duplicate: Bool = false) {
            time += 1_000_000
            input.append((LogRecord(kind: kind, receiveTimeNanos: time, source: source, stream: stream, payload: Array(payload.utf8), kafka: kafka), duplicate))
        }
        func binance(_ symbol: String, _ t: Int, duplicate: Bool = false) {
            let lower = symbol.lowercased()
            add("binance", "\(lower)@trade", #"{"stream":"\#(lower)@trade","data":{"e":"trade","E":\#(1707472723000 + t),"s":"\#(symbol)","t":\#(t),"p":"42150.50","q":"0.015","T":\#(1707472723000 + t),"m":false,"M":true}}"#, duplicate: duplicate)
        }
        add("binance", "btcusdt@trade", #"{"url":"wss://stream.binance.com:9443/stream"}"#, kind: .connect)
        for round in 0..<scale {
            let base = round * 1000
            for t in 1...300 { binance("BTCUSDT", base + t); binance("ETHUSDT", base + t) }
            add("binance", "btcusdt@trade", #"{"url":"wss://stream.binance.com:9443/stream"}"#, kind: .connect)
            for t in 281...300 { binance("BTCUSDT", base + t, duplicate: true) }   // the overlap after a reconnect
            for t in 301...400 { binance("BTCUSDT", base + t) }
            for o in 0..<200 {
                let offset = Int64(base + o)
                add("kafka:market.crypto.trades.binance.raw", "0", "value-\(offset)", kafka: KafkaCoordinates(partition: 0, offset: offset, timestampMs: 1, timestampType: 1, key: Array("BTCUSDT".utf8)))
            }
            for o in 150..<160 {
                let offset = Int64(base + o)
                add("kafka:market.crypto.trades.binance.raw", "0", "value-\(offset)", kafka: KafkaCoordinates(partition: 0, offset: offset, timestampMs: 1, timestampType: 1, key: Array("BTCUSDT".utf8)), duplicate: true)
            }
            for i in 0..<50 {
                add("kraken", "XBT/USD", #"[0,[["5541.2\#(base + i)","0.15850568","1534614057.\#(base + i)","s","l",""]],"trade","XBT/USD"]"#)
                add("kraken", "XBT/USD", #"{"event":"heartbeat"}"#)
                if i % 10 == 9 {
                    add("kraken", "XBT/USD", #"[0,[["5541.2\#(base + i)","0.15850568","1534614057.\#(base + i)","s","l",""]],"trade","XBT/USD"]"#, duplicate: true)
                }
            }
        }
        var options = SegmentLogWriterOptions()
        options.codec = .lz4
        options.blockBytes = 1024
        options.segmentBytes = segmentBytes
        options.fsync = .never
        let writer = try SegmentLogWriter(directory: dir, options: options, diagnostics: { _ in })
        var all: [LogRecord] = [], kept: [LogRecord] = []
        for (var record, duplicate) in input {
            record.sequence = try writer.append(record)
            all.append(record)
            if !duplicate { kept.append(record) }
        }
        try writer.close()
        return (all, kept)
    }

    private func multiset(_ records: [LogRecord]) -> [Key: Int] {
        var m: [Key: Int] = [:]
        for r in records { m[Key(source: r.source, stream: r.stream, sequence: r.sequence, payload: r.payload), default: 0] += 1 }
        return m
    }

    private func readLog(_ dir: String) throws -> [LogRecord] {
        let reader = try SegmentLogReader(directory: dir, diagnostics: { _ in })
        var out: [LogRecord] = []
        while let r = try reader.next() { out.append(r) }
        return out
    }

    private func json(_ result: ProcessResult) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stdoutText + result.stderrText)
    }

    func testMergesRecompressesAndDeduplicates() throws {
        let dir = try newDir("compact")
        let (all, kept) = try writeCapture(dir)
        let before = try LogFixtures.segmentFiles(dir)
        XCTAssertGreaterThan(before.count, 5)
        let result = try ProcessRunner.run(tool, [dir, "--codec", "zstd-9", "--target-bytes", "1MB", "--json"])
        XCTAssertEqual(result.status, 0, result.stderrText)
        let report = try json(result)
        XCTAssertEqual(report["records_read"] as? Int, all.count)
        XCTAssertEqual(report["duplicates_removed"] as? Int, all.count - kept.count)
        XCTAssertEqual(report["duplicates_by_rule"] as? [String: Int], ["trade_id": 20, "kafka_offset": 10, "identical_bytes": 5])
        XCTAssertEqual(multiset(try readLog(dir)), multiset(kept))
        let after = try LogFixtures.segmentFiles(dir)
        XCTAssertEqual(after.count, 1)
        XCTAssertFalse(before.contains(after[0]))
        // Every block is now zstd level 9.
        let info = try SegmentScanner.scan(path: after[0], id: 0, verifyPayloads: true, lenient: false, diagnostics: { _ in })
        let file = try SegmentFile.openRead(after[0])
        var scratch: [UInt8] = []
        for block in info.blocks {
            let header = try XCTUnwrap(SegmentScanner.validBlock(file: file, at: block.offset, end: info.fileSize, verifyPayload: true, buffer: &scratch))
            XCTAssertEqual(header.codec, .zstd(level: 9))
        }
        // A writer reopening the compacted log continues each stream above every sequence it ever had — also
        // Kraken's, whose newest record was a duplicate that the compaction removed.
        let kraken = StreamKey(source: "kraken", stream: "XBT/USD")
        XCTAssertLessThan(highest(kept)[kraken]!, highest(all)[kraken]!, "the fixture's newest Kraken record is a duplicate")
        XCTAssertEqual(try nextSequences(dir, copy: try newDir("compact-writer")), highest(all).mapValues { $0 + 1 })
    }

    private func highest(_ records: [LogRecord]) -> [StreamKey: UInt64] {
        var result: [StreamKey: UInt64] = [:]
        for r in records { result[r.streamKey] = max(result[r.streamKey] ?? 0, r.sequence) }
        return result
    }

    /// Opens a writer on a copy of `dir` (so it recovers the copy) and appends one record to each of the capture's
    /// streams; returns the sequences it assigned.
    private func nextSequences(_ dir: String, copy: String) throws -> [StreamKey: UInt64] {
        try FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: dir, toPath: copy)
        let writer = try SegmentLogWriter(directory: copy, diagnostics: { _ in })
        var result: [StreamKey: UInt64] = [:]
        for key in [StreamKey(source: "binance", stream: "btcusdt@trade"), StreamKey(source: "binance", stream: "ethusdt@trade"),
                    StreamKey(source: "kafka:market.crypto.trades.binance.raw", stream: "0"), StreamKey(source: "kraken", stream: "XBT/USD")] {
            result[key] = try writer.append(LogRecord(receiveTimeNanos: 1, source: key.source, stream: key.stream, payload: [1]))
        }
        try writer.close()
        return result
    }

    func testCheckCountsAndLocatesAFlippedByte() throws {
        let dir = try newDir("check")
        let (all, _) = try writeCapture(dir)
        let ok = try ProcessRunner.run(tool, [dir, "--check", "--json"])
        XCTAssertEqual(ok.status, 0, ok.stderrText)
        let report = try json(ok)
        XCTAssertEqual(report["records"] as? Int, all.count)
        XCTAssertEqual(report["ok"] as? Bool, true)
        XCTAssertEqual((report["streams"] as? [[String: Any]])?.count, 4)

        let victim = try LogFixtures.segmentFiles(dir)[3]
        let info = try SegmentScanner.scan(path: victim, id: 0, verifyPayloads: true, lenient: false, diagnostics: { _ in })
        var data = try Data(contentsOf: URL(fileURLWithPath: victim))
        let block = info.blocks[0]
        data[Int(block.offset) + 64 + block.keyBytes + 3] ^= 0x01
        try data.write(to: URL(fileURLWithPath: victim))
        let bad = try ProcessRunner.run(tool, [dir, "--check"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stdoutText.contains("\(victim) at byte offset \(block.offset)"), bad.stdoutText)
        // Compaction refuses to rewrite corrupt input and changes nothing.
        let before = try LogFixtures.segmentFiles(dir)
        let compact = try ProcessRunner.run(tool, [dir, "--target-bytes", "1MB"])
        XCTAssertEqual(compact.status, 1)
        XCTAssertTrue(compact.stderrText.contains("byte offset \(block.offset)"), compact.stderrText)
        XCTAssertEqual(try LogFixtures.segmentFiles(dir), before)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".tmp") || $0.hasPrefix("compaction") }, [])
    }

    func testDeleteBeforeAndDryRun() throws {
        let dir = try newDir("expire")
        let old = try writeCapture(dir, segmentBytes: 1 << 30, startTime: 1_600_000_000_000_000_000)
        let new = try writeCapture(dir, segmentBytes: 1 << 30, startTime: 1_700_000_000_000_000_000)
        XCTAssertEqual(try LogFixtures.segmentFiles(dir).count, 2)
        let dry = try ProcessRunner.run(tool, [dir, "--delete-before", "2022-01-01", "--target-bytes", "1KB", "--dry-run", "--json"])
        XCTAssertEqual(dry.status, 0, dry.stderrText)
        XCTAssertEqual(try json(dry)["records_expired"] as? Int, old.all.count)
        XCTAssertEqual(try readLog(dir).count, old.all.count + new.all.count, "--dry-run changes nothing")
        let run = try ProcessRunner.run(tool, [dir, "--delete-before", "2022-01-01", "--target-bytes", "1KB", "--json"])
        XCTAssertEqual(run.status, 0, run.stderrText)
        XCTAssertEqual(multiset(try readLog(dir)), multiset(new.all))
    }

    func testRefusesALogInUse() throws {
        let dir = try newDir("locked")
        let writer = try SegmentLogWriter(directory: dir, diagnostics: { _ in })
        let result = try ProcessRunner.run(tool, [dir])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.stderrText.contains(".lock"), result.stderrText)
        try writer.close()
    }

    /// kill -9 at random points: afterwards the log is exactly the old records or exactly the compacted ones,
    /// and a rerun finishes with exactly the de-duplicated set.
    func testKillNineAtRandomPointsThenRerun() throws {
        let template = try newDir("kill-template")
        let (all, kept) = try writeCapture(template, scale: 6, segmentBytes: 8192)
        let original = multiset(all), compacted = multiset(kept)
        let files = try FileManager.default.contentsOfDirectory(atPath: template).filter { $0.hasSuffix(".k2seg") }
        // How long a whole run takes here, to spread the kills over it.
        let timing = try newDir("kill-timing")
        for f in files { try FileManager.default.copyItem(atPath: template + "/" + f, toPath: timing + "/" + f) }
        let started = Date()
        XCTAssertEqual(try ProcessRunner.run(tool, [timing, "--codec", "zstd-9", "--target-bytes", "64KB"]).status, 0)
        let duration = Date().timeIntervalSince(started)
        var outcomes: Set<String> = []
        for iteration in 0..<TestEnvironment.killRounds(8) {
            let dir = try newDir("kill-\(iteration)")
            for f in files { try FileManager.default.copyItem(atPath: template + "/" + f, toPath: dir + "/" + f) }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = [dir, "--codec", "zstd-9", "--target-bytes", "64KB"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: Double.random(in: 0...(duration * 1.1)))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let now = multiset(try readLog(dir))
            XCTAssertTrue(now == original || now == compacted, "iteration \(iteration): the log is neither the old nor the new records")
            outcomes.insert(now == original ? "old" : "new")
            // Killed at any point, a capture reopening the log never reuses a sequence (Kraken's newest is a duplicate).
            XCTAssertEqual(try nextSequences(dir, copy: try newDir("kill-writer-\(iteration)")), highest(all).mapValues { $0 + 1 },
                           "iteration \(iteration)")
            let rerun = try ProcessRunner.run(tool, [dir, "--codec", "zstd-9", "--target-bytes", "64KB"])
            XCTAssertEqual(rerun.status, 0, rerun.stderrText)
            XCTAssertEqual(multiset(try readLog(dir)), compacted, "iteration \(iteration)")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".tmp") || $0.hasPrefix("compaction") }
            XCTAssertEqual(leftovers, [], "iteration \(iteration)")
        }
        print("kill -9 outcomes before rerun: \(outcomes.sorted())")
    }
}
