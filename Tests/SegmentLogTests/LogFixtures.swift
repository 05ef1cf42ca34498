import Codecs
import Foundation
@testable import SegmentLog
import TestSupport

/// Random but reproducible records and helpers shared by the segment-log tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476C_E1E5_B9B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum LogFixtures {
    static let streams = [
        StreamKey(source: "binance", stream: "btcusdt@trade"),
        StreamKey(source: "binance", stream: "ethusdt@trade"),
        StreamKey(source: "kraken", stream: "XBT/USD"),
        StreamKey(source: "kafka:market.crypto.trades.binance.raw", stream: "3"),
    ]

    /// `count` records spread over the streams with increasing receive times; every optional field appears.
    static func randomRecords(count: Int, seed: UInt64, startTime: Int64 = 1_707_472_723_000_000_000) -> [LogRecord] {
        var rng = SplitMix64(seed: seed)
        var time = startTime
        var records: [LogRecord] = []
        var offsets: [Int64] = [0, 0, 0, 0]
        for _ in 0..<count {
            let s = Int.random(in: 0..<streams.count, using: &rng)
            time += Int64.random(in: 0...2_000_000, using: &rng)
            let key = streams[s]
            let length = Int.random(in: 0...400, using: &rng)
            let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var record = LogRecord(receiveTimeNanos: time, source: key.source, stream: key.stream, payload: payload)
            let roll = Int.random(in: 0..<20, using: &rng)
            if key.source.hasPrefix("kafka:") {
                offsets[s] += Int64.random(in: 1...3, using: &rng)
                let key = Bool.random(using: &rng) ? Array("BTCUSDT".utf8) : nil
                let headers = roll == 0 ? [KafkaHeader(name: "h", value: [1, 2]), KafkaHeader(name: "n", value: nil)] : []
                record.kafka = KafkaCoordinates(partition: 3, offset: offsets[s], timestampMs: time / 1_000_000,
                                                timestampType: 1, key: key, headers: headers)
            } else if roll == 0 {
                record.kind = .gap
                record.gapExpected = Int64.random(in: 0...1_000_000, using: &rng)
                record.gapSeen = record.gapExpected! + 5
                record.payload = Array("{\"expected\":\(record.gapExpected!),\"seen\":\(record.gapSeen!)}".utf8)
            } else if roll == 1 {
                record.kind = .connect
                record.flags = [.malformed]
            } else if roll == 2 {
                record.kind = .subscribeReply
                record.flags = [.malformed, .oversized]
            }
            records.append(record)
        }
        return records
    }

    /// Writes `records` and returns them with their assigned sequences.
    @discardableResult
    static func write(_ records: [LogRecord], to directory: String, options: SegmentLogWriterOptions, close: Bool = true) throws -> [LogRecord] {
        let writer = try SegmentLogWriter(directory: directory, options: options, diagnostics: { _ in })
        var out: [LogRecord] = []
        for var r in records {
            r.sequence = try writer.append(r)
            out.append(r)
        }
        if close { try writer.close() }
        return out
    }

    static func readAll(_ directory: String, selection: ReadSelection = .all, skipCorrupt: Bool = false,
                        diagnostics: ((String) -> Void)? = nil) throws -> ([LogRecord], ReadStatistics) {
        let reader = try SegmentLogReader(directory: directory, selection: selection, skipCorrupt: skipCorrupt,
                                          diagnostics: diagnostics ?? { _ in })
        var out: [LogRecord] = []
        while let r = try reader.next() { out.append(r) }
        return (out, reader.statistics)
    }

    static func segmentFiles(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".k2seg") }.sorted()
            .map { directory + "/" + $0 }
    }

    static func options(codec: CompressionCodec, blockBytes: Int, segmentBytes: Int64, fsync: FsyncPolicy = .never) -> SegmentLogWriterOptions {
        var o = SegmentLogWriterOptions()
        o.codec = codec
        o.blockBytes = blockBytes
        o.segmentBytes = segmentBytes
        o.fsync = fsync
        return o
    }

    /// Groups records per stream in sequence order (the order a reader must keep within a stream).
    static func perStream(_ records: [LogRecord]) -> [StreamKey: [LogRecord]] {
        Dictionary(grouping: records, by: \.streamKey).mapValues { $0.sorted { $0.sequence < $1.sequence } }
    }
}
