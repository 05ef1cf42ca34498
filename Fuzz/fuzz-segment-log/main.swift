import Codecs
import Foundation
import FuzzSupport
import SegmentLog

// A segment file's bytes (header, blocks, records, index, footer) read through the public reader and checker:
// `SegmentLogReader` strict and with skipCorrupt, and `SegmentLogChecker` (what `k2-compact --check` runs).
// Any thrown error is a correct answer; a trap, an ASan report, a hang or a big allocation is a finding.

let directory = FuzzMain.scratchDirectory("segment-log")
let segmentPath = directory + "/00000000000000000001.k2seg"

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzMain.put(FuzzMain.bytes(data, size), at: segmentPath)
    for skipCorrupt in [false, true] {
        do {
            let reader = try SegmentLogReader(directory: directory, skipCorrupt: skipCorrupt, diagnostics: { _ in })
            while try reader.next(view: { _ in }) {}
        } catch {}
    }
    _ = try? SegmentLogChecker.check(directory: directory, diagnostics: { _ in })
    return 0
}

/// Segments written by `SegmentLogWriter`: each codec, several streams, Kafka coordinates, gap and control
/// records; sealed (closed) and unsealed (flushed, copied before the close).
func makeSeeds() throws -> [(name: String, bytes: [UInt8])] {
    var seeds: [(name: String, bytes: [UInt8])] = []
    for (name, codec) in [("none", CompressionCodec.none), ("lz4", .lz4), ("zstd", .zstd(level: 3))] {
        for sealed in [true, false] {
            let dir = FuzzMain.scratchDirectory("segment-log-seed")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            var options = SegmentLogWriterOptions()
            options.codec = codec
            options.blockBytes = 256
            options.fsync = .never
            let writer = try SegmentLogWriter(directory: dir, options: options, diagnostics: { _ in })
            var time: Int64 = 1_700_000_000_000_000_000
            for i in 0..<12 {
                time += Int64(i % 3 == 0 ? -5 : 1_000_003)
                let payload = Array(#"{"e":"trade","t":\#(1000 + i),"p":"42000.1","q":"0.01"}"#.utf8)
                _ = try writer.append(LogRecord(receiveTimeNanos: time, source: "binance", stream: "btcusdt@trade", payload: payload))
                _ = try writer.append(LogRecord(kind: i == 0 ? .connect : .data, receiveTimeNanos: time + 7, source: "kraken",
                                                stream: "XBT/USD", payload: Array("[42,[[\"1.0\",\"2.0\"]],\"trade\",\"XBT/USD\"]".utf8)))
                if i % 4 == 1 {
                    _ = try writer.append(LogRecord(
                        receiveTimeNanos: time + 9, source: "kafka", stream: "topic-\(i % 2)", payload: [UInt8](repeating: 0x41, count: i),
                        kafka: KafkaCoordinates(partition: Int32(i % 3), offset: Int64(i) * 10, timestampMs: time / 1_000_000, timestampType: 1,
                                                key: i % 2 == 0 ? nil : [1, 2, 3], headers: [KafkaHeader(name: "h", value: [9]), KafkaHeader(name: "n", value: nil)])))
                }
                if i == 6 {
                    _ = try writer.append(LogRecord(kind: .gap, receiveTimeNanos: time, source: "binance", stream: "btcusdt@trade",
                                                    payload: Array(#"{"expected":1006,"seen":1009}"#.utf8), gapExpected: 1006, gapSeen: 1009))
                }
            }
            let first = dir + "/00000000000000000001.k2seg"
            if sealed {
                try writer.close()
            } else {
                try writer.flush()
            }
            if let bytes = FileManager.default.contents(atPath: first) {
                seeds.append(("writer-\(name)-\(sealed ? "sealed" : "unsealed").k2seg", [UInt8](bytes)))
            }
            if !sealed { try writer.close() }
        }
    }
    return seeds
}

FuzzMain.run(testOneInput, seeds: makeSeeds)
