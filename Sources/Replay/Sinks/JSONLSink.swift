import Bronze
import Foundation
import Glibc
import K2Core
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
        append(#"{"receive_time":""#)
        JSONLSink.appendRFC3339(record.receiveTimeNanos, to: &line)
        append("\"")
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

    /// `2024-02-09T10:00:00.123456Z` (UTC, microseconds), without a date formatter per line.
    static func appendRFC3339(_ nanos: Int64, to out: inout [UInt8]) {
        let micros = nanos >= 0 ? nanos / 1000 : (nanos - 999) / 1000
        let days = CivilDate.floorDivide(micros, 86_400_000_000)
        let inDay = micros - days * 86_400_000_000
        let date = CivilDate(daysSinceEpoch: days)
        func digits(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var value = value
            while divisor > 0 {
                out.append(0x30 + UInt8(value / divisor % 10))
                value %= divisor
                divisor /= 10
            }
        }
        digits(date.year, 4); out.append(0x2D); digits(date.month, 2); out.append(0x2D); digits(date.day, 2); out.append(0x54)
        digits(inDay / 3_600_000_000, 2); out.append(0x3A); digits(inDay / 60_000_000 % 60, 2); out.append(0x3A)
        digits(inDay / 1_000_000 % 60, 2); out.append(0x2E); digits(inDay % 1_000_000, 6); out.append(0x5A)
    }

    private func append(_ text: String) {
        line.append(contentsOf: text.utf8)
    }

    var readerStreams: [StreamKey] = []

    func write(view: LogRecordView) throws -> Int { try write(record(of: view)) }

    func finish() throws {
        guard fflush(output) == 0 else { throw ReplayError.failed("flushing stdout failed (errno \(errno))") }
    }

    var progressNote: String { "" }
    var summary: [String: SummaryValue] { ["lines": .int(written)] }
}
