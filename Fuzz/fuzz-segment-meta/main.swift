import Foundation
import FuzzSupport
@testable import SegmentLog

// The two small JSON files of a log directory that writers act on: `compaction.intent` (whose roll-forward
// renames and deletes the files it names) and `sequences.high-water` (where every writer continues its
// streams). The input becomes each file in turn and is read by the library's own readers
// (`SegmentDirectory.readIntent`, `SequenceHighWater.read`), and the intent through a reader's listing too.

let directory = FuzzMain.scratchDirectory("segment-meta")
let intentPath = directory + "/compaction.intent"
let highWaterPath = directory + "/sequences.high-water"

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzMain.bytes(data, size)
    FuzzMain.put(bytes, at: intentPath)
    if let intent = try? SegmentDirectory.readIntent(directory) {
        for name in intent.old + intent.new { precondition(!name.contains("/"), "an intent naming a path was accepted") }
    }
    do {
        let reader = try SegmentLogReader(directory: directory, diagnostics: { _ in })
        while try reader.next(view: { _ in }) {}
    } catch {}
    FuzzMain.put(nil, at: intentPath)
    FuzzMain.put(bytes, at: highWaterPath)
    if let marks = try? SequenceHighWater.read(directory) {
        for sequence in marks.sequences.values { precondition(sequence < UInt64.max) }
    }
    FuzzMain.put(nil, at: highWaterPath)
    return 0
}

/// An intent and a high-water file as k2-compact writes them (the library's own encoders).
func makeSeeds() throws -> [(name: String, bytes: [UInt8])] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let intent = SegmentDirectory.Intent(old: ["00000000000000000001.k2seg", "00000000000000000002.k2seg"],
                                         new: ["00000000000000000003.k2seg"], highWater: SequenceHighWater.fileName)
    let dir = FuzzMain.scratchDirectory("segment-meta-seed")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let marks = SequenceHighWater(sequences: [StreamKey(source: "kraken", stream: "XBT/USD"): 10,
                                              StreamKey(source: "binance", stream: "btcusdt@trade"): 123_456])
    try marks.prepare(directory: dir)
    let prepared = FileManager.default.contents(atPath: SequenceHighWater.path(dir) + SegmentFormat.temporarySuffix) ?? Data()
    return [("intent.json", [UInt8](try encoder.encode(intent))), ("high-water.json", [UInt8](prepared))]
}

FuzzMain.run(testOneInput, seeds: makeSeeds)
