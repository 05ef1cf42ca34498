import Bronze
import Foundation
import Glibc
import K2CLI
import SegmentLog

/// `--to jsonl`: the log's `cat`, one JSON object per record on stdout: receive time, source, stream,
/// sequence, kind, payload (text when valid UTF-8, else `payload_base64`), gap ids, Kafka coordinates.
final class JSONLSink: ReplaySink {
    private var line: [UInt8] = []
    private var written = 0
    private let output: UnsafeMutablePointer<FILE>

    init(output: UnsafeMutablePointer<FILE> = stdout) {
        self.output = output
        line.reserveCapacity(4096)
    }

    private static let kindNames: [RecordKind: String] = [.data: "data", .connect: "connect", .disconnect: "disconnect",
                                                           .subscribeReply: "subscribe_reply", .gap: "gap"]

    func write(_ record: LogRecord) throws -> Int {
        line.removeAll(keepingCapacity: true)
        append(#"{"receive_time":"#)
        JSONText.appendString(TimeParser.rfc3339(epochNanoseconds: record.receiveTimeNanos), to: &line)
        append(#","receive_time_ns":\#(record.receiveTimeNanos),"source":"#)
        JSONText.appendString(record.source, to: &line)
        append(#","stream":"#)
        JSONText.appendString(record.stream, to: &line)
        append(#","sequence":\#(record.sequence),"kind":""#)
        append(JSONLSink.kindNames[record.kind] ?? "unknown")
        append("\"")
        if record.flags.contains(.malformed) { append(#","malformed":true"#) }
        if record.flags.contains(.oversized) { append(#","oversized":true"#) }
        if record.kind == .gap {
            append(#","expected":\#(record.gapExpected.map(String.init) ?? "null"),"seen":\#(record.gapSeen.map(String.init) ?? "null")"#)
        }
        if let kafka = record.kafka {
            append(#","kafka":{"partition":\#(kafka.partition),"offset":\#(kafka.offset),"timestamp_ms":\#(kafka.timestampMs),"timestamp_type":\#(kafka.timestampType),"key":"#)
            appendBytes(kafka.key)
            append(#","headers":["#)
            for (index, header) in kafka.headers.enumerated() {
                if index > 0 { append(",") }
                append(#"{"name":"#)
                JSONText.appendString(header.name, to: &line)
                append(#","value":"#)
                appendBytes(header.value)
                append("}")
            }
            append("]}")
        }
        if let text = String(validating: record.payload, as: UTF8.self) {
            append(#","payload":"#)
            JSONText.appendString(text, to: &line)
        } else {
            append(#","payload_base64":""#)
            append(Data(record.payload).base64EncodedString())
            append("\"")
        }
        append("}\n")
        let count = line.count
        let wrote = line.withUnsafeBytes { fwrite($0.baseAddress, 1, count, output) }
        guard wrote == count else { throw ReplayError.failed("writing JSON lines to stdout failed (errno \(errno))") }
        written += 1
        return 1
    }

    /// Bytes as text when UTF-8, else `{"base64":"..."}`; null stays null.
    private func appendBytes(_ bytes: [UInt8]?) {
        guard let bytes else { append("null"); return }
        if let text = String(validating: bytes, as: UTF8.self) {
            JSONText.appendString(text, to: &line)
        } else {
            append(#"{"base64":""#)
            append(Data(bytes).base64EncodedString())
            append("\"}")
        }
    }

    private func append(_ text: String) {
        line.append(contentsOf: text.utf8)
    }

    func finish() throws {
        guard fflush(output) == 0 else { throw ReplayError.failed("flushing stdout failed (errno \(errno))") }
    }

    var progressNote: String { "" }
    var summary: [String: SummaryValue] { ["lines": .int(written)] }
}
