import ArgumentParser
import Foundation
import SegmentLog

/// Writes JSONL frame files (the bundled fixtures) into a segment log, as a capture would have recorded them.
/// Used by `make run` to build a demo log without network access.
struct WriteLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "write-log",
        abstract: "Write JSONL frames (fixtures/...) into a segment log, one record per line.",
        discussion: """
        The source is taken from the file's directory (binance, kraken) and, for Kraken, the file name
        (v2-* is kraken-v2). The stream is the frame's own: Binance "stream", the Kraken v1 pair, the Kraken v2
        symbol; status frames go to stream "_connection". Subscription replies are subscribeReply records.
        Receive times are synthetic and deterministic: --start plus 1 ms per line.
        Example: k2-bench write-log --out var/run/log fixtures/binance/combined-trades.jsonl fixtures/kraken/*.jsonl
        """)

    @Option(help: "Log directory.") var out: String
    @Option(help: "Receive time of the first line, epoch ms.") var start: Int64 = 1_707_472_723_000
    @Argument(help: "JSONL files.") var files: [String]

    func run() throws {
        let writer = try SegmentLogWriter(directory: out, diagnostics: { FileHandle.standardError.write(Data("write-log: \($0)\n".utf8)) })
        var time = start * 1_000_000
        var counts: [String: Int] = [:]
        for path in files {
            let source: String
            if path.contains("binance") { source = "binance" } else if (path as NSString).lastPathComponent.hasPrefix("v2") { source = "kraken-v2" } else { source = "kraken" }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read \(path)")
            }
            for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
                let bytes = Array(line.utf8)
                let (kind, stream) = WriteLog.classify(bytes, source: source)
                time += 1_000_000
                try writer.append(LogRecord(kind: kind, receiveTimeNanos: time, source: source, stream: stream, payload: bytes))
                counts[source, default: 0] += 1
            }
        }
        try writer.close()
        for (source, n) in counts.sorted(by: { $0.key < $1.key }) { print("wrote \(n) \(source) frames to \(out)") }
    }

    static func classify(_ bytes: [UInt8], source: String) -> (RecordKind, String) {
        let json = try? JSONSerialization.jsonObject(with: Data(bytes))
        if let object = json as? [String: Any] {
            if let stream = object["stream"] as? String { return (.data, stream) }
            if object["event"] as? String == "subscriptionStatus" { return (.subscribeReply, object["pair"] as? String ?? "_connection") }
            if object["method"] as? String == "subscribe" {
                return (.subscribeReply, (object["result"] as? [String: Any])?["symbol"] as? String ?? "_connection")
            }
            if object["channel"] as? String == "trade", let data = object["data"] as? [[String: Any]], let symbol = data.first?["symbol"] as? String {
                return (.data, symbol)
            }
            return (.data, "_connection")
        }
        if let array = json as? [Any], let pair = array.last as? String { return (.data, pair) }
        return (.data, "_connection")
    }
}
