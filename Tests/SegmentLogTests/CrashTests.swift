import Foundation
@testable import SegmentLog
import TestSupport
import XCTest

/// Kills a writing process with SIGKILL and checks the recovered log against what it acknowledged as synced.
final class CrashTests: XCTestCase {
    func testSIGKILLDuringWritingLosesNoAcknowledgedRecord() throws {
        let tool = TestEnvironment.productPath("segment-log-torture")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "build segment-log-torture first (swift build)")
        let dir = try TestEnvironment.temporaryDirectory("seg-kill").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var acknowledged: [String: UInt64] = [:]
        for round in 0..<TestEnvironment.killRounds(4) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: tool)
            process.arguments = [dir]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Kill at a random moment: mid-block, mid-fsync, mid-roll or mid-seal.
            Thread.sleep(forTimeInterval: Double.random(in: 0.2...1.2))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            XCTAssertEqual(process.terminationReason, .uncaughtSignal)
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ")
                // A line cut by the kill is not an acknowledgement.
                guard parts.count == 3, parts[0] == "synced", let seq = UInt64(parts[2]), line.count > 0 else { continue }
                acknowledged[String(parts[1])] = max(acknowledged[String(parts[1])] ?? 0, seq)
            }
            XCTAssertFalse(acknowledged.isEmpty, "round \(round): the writer acknowledged nothing before the kill")

            // Read what is there (torn tail allowed), then let a writer recover it and read again.
            for phase in ["as left", "after recovery"] {
                if phase == "after recovery" {
                    var notes: [String] = []
                    let writer = try SegmentLogWriter(directory: dir, diagnostics: { notes.append($0) })
                    try writer.close()
                }
                let (records, stats) = try LogFixtures.readAll(dir)
                XCTAssertEqual(stats.corruptBlocksSkipped, 0)
                if phase == "after recovery" { XCTAssertEqual(stats.tornTails, 0) }
                let streams = LogFixtures.perStream(records)
                for (stream, acked) in acknowledged {
                    let got = streams[StreamKey(source: "torture", stream: stream)] ?? []
                    XCTAssertGreaterThanOrEqual(UInt64(got.count), acked, "round \(round) \(phase): \(stream) lost acknowledged records")
                }
                for (key, got) in streams {
                    // Exactly 1...n, each payload the writer's deterministic one: nothing after the torn tail is garbage.
                    XCTAssertEqual(got.map(\.sequence), Array(1...UInt64(got.count)), "round \(round) \(phase) \(key)")
                    for r in got {
                        let pad = String(repeating: "x", count: Int(r.sequence % 97))
                        XCTAssertEqual(String(decoding: r.payload, as: UTF8.self),
                                       "{\"stream\":\"\(key.stream)\",\"seq\":\(r.sequence),\"pad\":\"\(pad)\"}")
                    }
                }
            }
        }
    }
}
