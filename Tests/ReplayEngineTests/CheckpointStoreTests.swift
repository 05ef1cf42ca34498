import Foundation
import K2CLI
import XCTest
@testable import Replay

/// The checkpoint ledger: round trip, atomic replacement, and every kind of bad file refused by name.
final class CheckpointStoreTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: directory) }

    static func identity(cluster: String = "c1", since: Int64? = nil) -> ReplayIdentity {
        ReplayIdentity(log: "/logs/a", sources: ["binance"], symbols: nil, sinceNanos: since, untilNanos: nil, format: "json",
                       schemaIds: [:], topic: nil, clusterId: cluster)
    }

    static func checkpoint(_ identity: ReplayIdentity) -> ReplayCheckpoint {
        var stream = ReplayCheckpoint.StreamProgress(source: "binance", stream: "btcusdt@trade", delivered: 3,
                                                     acknowledged: .init(sequence: 3, trade: 0), fromOffset: 13, recheck: nil)
        stream.recheck = .init(sequence: 2, trade: 0)
        var partition = ReplayCheckpoint.Partition(topic: "t", partition: 1, startOffset: 10, streams: [stream], last: nil)
        partition.last = .init(source: "binance", stream: "btcusdt@trade", at: .init(sequence: 3, trade: 0), offset: 12)
        var checkpoint = ReplayCheckpoint(identity: identity, partitions: [partition])
        checkpoint.sourceRanges = ["kafka:t/0": .init(start: 0, end: 9)]
        return checkpoint
    }

    func testWrittenCheckpointReadsBackEqualAndFreshRunHasNone() throws {
        let store = CheckpointStore(directory: directory.path)
        let identity = Self.identity()
        XCTAssertNil(try store.load(identity))
        let checkpoint = Self.checkpoint(identity)
        try store.write(checkpoint)
        var loaded = try XCTUnwrap(try store.load(identity))
        XCTAssertFalse(loaded.updated.isEmpty, "the write stamps the time")
        loaded.updated = ""
        XCTAssertEqual(loaded, checkpoint)
        // A second write replaces the first whole; no temporary file is left behind.
        var next = checkpoint
        next.complete = true
        try store.write(next)
        XCTAssertEqual(try store.load(identity)?.complete, true)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(names, [identity.checkpointFileName])
    }

    func testTornCorruptForeignAndInconsistentFilesAreRefusedByName() throws {
        let store = CheckpointStore(directory: directory.path)
        let identity = Self.identity()
        try store.write(Self.checkpoint(identity))
        let path = store.path(for: identity)
        let good = try Data(contentsOf: URL(fileURLWithPath: path))

        func refusal(_ data: Data) -> String {
            _ = FileManager.default.createFile(atPath: path, contents: data)
            do {
                _ = try store.load(identity)
                return "loaded"
            } catch let error as ReplayError {
                guard case .unusable(let text) = error else { return "not unusable: \(error)" }
                return text
            } catch {
                return "other error: \(error)"
            }
        }
        // Torn: the first half of the file (a write that did not go through rename would never show this,
        // but a file copied or restored badly can).
        let torn = refusal(good.prefix(good.count / 2))
        XCTAssertTrue(torn.contains("not a valid k2-replay checkpoint"), torn)
        XCTAssertTrue(torn.contains(path), torn)
        let garbage = refusal(Data("\u{0}\u{1}garbage".utf8))
        XCTAssertTrue(garbage.contains("not a valid k2-replay checkpoint"), garbage)

        var object = try JSONSerialization.jsonObject(with: good) as! [String: Any]
        object["version"] = 99
        let version = refusal(try JSONSerialization.data(withJSONObject: object))
        XCTAssertTrue(version.contains("version 99"), version)

        var foreign = Self.checkpoint(Self.identity(cluster: "other"))
        foreign.updated = "x"
        let foreignText = refusal(try JSONEncoder().encode(foreign))
        XCTAssertTrue(foreignText.contains("another replay's identity"), foreignText)

        // Delivered messages without an acknowledged point cannot be resumed from.
        var inconsistent = Self.checkpoint(identity)
        inconsistent.partitions[0].streams[0].acknowledged = nil
        inconsistent.partitions[0].streams[0].recheck = nil
        let inconsistentData = try JSONEncoder().encode(inconsistent)
        let inconsistentText = refusal(inconsistentData)
        XCTAssertTrue(inconsistentText.contains("inconsistent entry for t [1]"), inconsistentText)

        // The refused file is left as it was.
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), inconsistentData)
    }

    func testOneRunOfAReplayAtATime() throws {
        let store = CheckpointStore(directory: directory.path)
        let identity = Self.identity()
        let lock = try store.lock(identity)
        XCTAssertThrowsError(try store.lock(identity)) { error in
            XCTAssertTrue("\(error)".contains("another k2-replay is running this replay"), "\(error)")
        }
        // Another replay (another identity) is not held up.
        XCTAssertNoThrow(try store.lock(Self.identity(cluster: "c2")))
        lock.release()
        XCTAssertNoThrow(try store.lock(identity))
    }

    func testIdentityNamesTheCheckpointByParsedValues() {
        // `--since 2024-02-09` and `--since 2024-02-09T00:00:00Z` are one instant, so one replay.
        let a = Self.identity(since: TimeParser.epochNanoseconds("2024-02-09"))
        let b = Self.identity(since: TimeParser.epochNanoseconds("2024-02-09T00:00:00Z"))
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.checkpointFileName, b.checkpointFileName)
        XCTAssertNotEqual(a.checkpointFileName, Self.identity(since: 1_707_436_800_000_000_001).checkpointFileName)
        XCTAssertNotEqual(a.checkpointFileName, Self.identity(cluster: "c2", since: 1_707_436_800_000_000_000).checkpointFileName)
        XCTAssertTrue(a.checkpointFileName.hasPrefix("replay-") && a.checkpointFileName.hasSuffix(".json"))
    }
}
