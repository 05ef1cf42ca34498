// segment-log-torture: the crash-test writer that the SIGKILL tests drive (not a product).
//
//   segment-log-torture <log-dir> [records]
//
// Appends deterministic records to three streams with fsync=everyBlock, small blocks and small segments (so
// kills land in every phase: block writes, rolls, seals), and prints `synced <stream> <sequence>` on stdout
// each time a stream's durable sequence advances. A test kills it with SIGKILL and checks that every printed
// record is in the recovered log, byte-exact.
import Foundation
import SegmentLog

setvbuf(stdout, nil, _IOLBF, 0)
let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    FileHandle.standardError.write(Data("usage: segment-log-torture <log-dir> [records]\n".utf8))
    exit(2)
}
let limit = arguments.count > 2 ? Int(arguments[2]) ?? Int.max : Int.max

/// The payload of record `sequence` of `stream`: a function of both, so a reader can check it exactly.
func payload(stream: String, sequence: UInt64) -> [UInt8] {
    let pad = String(repeating: "x", count: Int(sequence % 97))
    return Array("{\"stream\":\"\(stream)\",\"seq\":\(sequence),\"pad\":\"\(pad)\"}".utf8)
}

var options = SegmentLogWriterOptions()
options.codec = .lz4
options.blockBytes = 2048
options.segmentBytes = 48 * 1024
options.fsync = .everyBlock
do {
    let writer = try SegmentLogWriter(directory: arguments[1], options: options) {
        FileHandle.standardError.write(Data("recovery: \($0)\n".utf8))
    }
    let streams = ["btcusdt@trade", "ethusdt@trade", "XBT/USD"]
    var reported: [StreamKey: UInt64] = writer.syncedSequences
    var time = Int64(1_700_000_000_000_000_000)
    for i in 0..<limit {
        let stream = streams[i % 3]
        let next = (writer.lastSequences[StreamKey(source: "torture", stream: stream)] ?? 0) + 1
        time += 1000
        let sequence = try writer.append(LogRecord(receiveTimeNanos: time, source: "torture", stream: stream,
                                                   payload: payload(stream: stream, sequence: next)))
        precondition(sequence == next)
        if i % 50 == 0 {
            for (key, seq) in writer.syncedSequences where reported[key] != seq {
                reported[key] = seq
                print("synced \(key.stream) \(seq)")
            }
            // stdout is a pipe (fully buffered): an acknowledgement still in the buffer when SIGKILL lands
            // would never reach the test, which would then check less than the writer had acknowledged.
            fflush(stdout)
        }
    }
    try writer.close()
    for (key, seq) in writer.syncedSequences.sorted(by: { $0.key < $1.key }) { print("synced \(key.stream) \(seq)") }
} catch {
    FileHandle.standardError.write(Data("segment-log-torture: \(error)\n".utf8))
    exit(1)
}
