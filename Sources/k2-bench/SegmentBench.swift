import ArgumentParser
import Codecs
import Foundation
import SegmentLog

/// Append and read throughput of the segment log on 200-byte JSON trade frames.
struct SegmentBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "segment",
        abstract: "Segment log: append records/s and MB/s (lz4, zstd-3), read records/s, on 200-byte trade frames.",
        discussion: """
        Writes --records frames to a fresh log per codec (fsync never, so the figure is the format and the
        codec, not the disk), then reads each back. Rates are per CPU second of the benchmark thread
        (user + system), the best of --runs, so other jobs on a shared machine do not distort them. Also writes the same frames, one per line, to
        <dir>/frames.jsonl so bench.sh can compress the same bytes with the zstd and lz4 CLIs.
        Prints one JSON object.
        """)

    @Option(help: "Number of frames.") var records = 1_000_000
    @Option(help: "Work directory (emptied).") var dir = "var/bench/segment"
    @Option(help: "Block size in bytes.") var blockBytes = 64 * 1024
    @Option(help: "Runs per measurement; the best is reported (the machine may be shared).") var runs = 3

    func run() throws {
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let frames = SegmentBench.frames(count: records)
        let payloadBytes = frames.reduce(0) { $0 + $1.count }
        var framesFile = Data()
        framesFile.reserveCapacity(payloadBytes + frames.count)
        for f in frames { framesFile.append(contentsOf: f); framesFile.append(0x0A) }
        try framesFile.write(to: URL(fileURLWithPath: dir + "/frames.jsonl"))

        var result: [String: Any] = ["records": records, "payloadBytes": payloadBytes, "blockBytes": blockBytes,
                                     "meanFrameBytes": Double(payloadBytes) / Double(records), "runs": runs]
        for (name, codec) in [("lz4", CompressionCodec.lz4), ("zstd-3", .zstd(level: 3))] {
            var best: [String: Any] = [:]
            var bestAppend = Double.infinity, bestRead = Double.infinity
            for _ in 0..<max(1, runs) {
            let logDir = dir + "/log-" + name
            try? fm.removeItem(atPath: logDir)
            var options = SegmentLogWriterOptions()
            options.codec = codec
            options.blockBytes = blockBytes
            options.fsync = .never
            let writer = try SegmentLogWriter(directory: logDir, options: options, diagnostics: { _ in })
            var record = LogRecord(receiveTimeNanos: 0, source: "binance", stream: "btcusdt@trade", payload: [])
            let start = SegmentBench.cpuNanos()
            for (i, frame) in frames.enumerated() {
                record.receiveTimeNanos = 1_707_472_723_000_000_000 + Int64(i) * 100_000
                record.stream = (i & 1 == 0) ? "btcusdt@trade" : "ethusdt@trade"
                record.payload = frame
                try writer.append(record)
            }
            try writer.close()
            let appendSeconds = Double(SegmentBench.cpuNanos() - start) / 1e9
            let size = try fm.contentsOfDirectory(atPath: logDir).filter { $0.hasSuffix(".k2seg") }
                .reduce(Int64(0)) { $0 + Int64((try fm.attributesOfItem(atPath: logDir + "/" + $1)[.size] as? Int) ?? 0) }

            let readStart = SegmentBench.cpuNanos()
            let reader = try SegmentLogReader(directory: logDir, diagnostics: { _ in })
            var count = 0, bytes = 0
            while let r = try reader.next() { count += 1; bytes += r.payload.count }
            let readSeconds = Double(SegmentBench.cpuNanos() - readStart) / 1e9
            guard count == records, bytes == payloadBytes else {
                throw ValidationError("read back \(count) records / \(bytes) bytes, wrote \(records) / \(payloadBytes)")
            }
            bestAppend = min(bestAppend, appendSeconds)
            bestRead = min(bestRead, readSeconds)
            best = [
                "appendRecordsPerSecond": Double(records) / bestAppend,
                "appendMBPerSecond": Double(payloadBytes) / bestAppend / 1e6,
                "logBytes": size,
                "readRecordsPerSecond": Double(records) / bestRead,
                "readMBPerSecond": Double(payloadBytes) / bestRead / 1e6,
            ]
            }
            result[name] = best
        }
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys, .prettyPrinted])
        print(String(decoding: json, as: UTF8.self))
    }

    /// CPU time of this thread (user + system), so a shared, loaded machine does not count other jobs' time.
    static func cpuNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Realistic Binance combined-stream trade frames of ~200 bytes, deterministic.
    static func frames(count: Int) -> [[UInt8]] {
        var state: UInt64 = 0x2024_0209
        func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 33
        }
        var frames: [[UInt8]] = []
        frames.reserveCapacity(count)
        var price = 4_215_050, t: Int64 = 3_412_000_100, clock: Int64 = 1_707_472_723_000
        var orderId: Int64 = 24_950_000_000
        for i in 0..<count {
            let btc = i & 1 == 0
            price += Int(next() % 21) - 10
            t += 1
            clock += Int64(next() % 3)
            orderId += Int64(next() % 40)
            let symbol = btc ? "BTCUSDT" : "ETHUSDT"
            let qty = Double(next() % 500_000) / 100_000
            let text = #"{"stream":"\#(symbol.lowercased())@trade","data":{"e":"trade","E":\#(clock),"s":"\#(symbol)","t":\#(t),"p":"\#(price / 100).\#(String(format: "%02d", price % 100))000000","q":"\#(String(format: "%.8f", qty))","b":\#(orderId),"a":\#(orderId - Int64(next() % 900)),"T":\#(clock - 1),"m":\#(next() & 1 == 0),"M":true}}"#
            frames.append(Array(text.utf8))
        }
        return frames
    }
}
