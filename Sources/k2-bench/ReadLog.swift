import ArgumentParser
import Foundation
import SegmentLog

/// Prints records of a segment log, one line each (the demo's "a few read back").
struct ReadLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read-log",
        abstract: "Print records of a segment log: time, source/stream, sequence, kind, payload.",
        discussion: "Example: k2-bench read-log var/run/log --limit 5 --source kraken")

    @Argument(help: "Log directory.") var log: String
    @Option(help: "Print at most this many records.") var limit = 10
    @Option(help: "Only this source (binance, kraken, kraken-v2, kafka:<topic>).") var source: String?
    @Flag(help: "Print only the number of records read (and records/s on stderr).") var count = false

    func run() throws {
        var selection = ReadSelection()
        if let source { selection.sources = [source] }
        let reader = try SegmentLogReader(directory: log, selection: selection, diagnostics: {
            FileHandle.standardError.write(Data("read-log: \($0)\n".utf8))
        })
        if count {
            let start = DispatchTime.now().uptimeNanoseconds
            var n = 0, bytes = 0
            while let r = try reader.next() { n += 1; bytes += r.payload.count }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            print(n)
            FileHandle.standardError.write(Data("read-log: \(n) records, \(bytes) payload bytes in \(seconds) s (\(Int(Double(n) / seconds)) records/s)\n".utf8))
            return
        }
        var printed = 0
        while printed < limit, let r = try reader.next() {
            let seconds = Double(r.receiveTimeNanos) / 1e9
            let time = ISO8601DateFormatter.string(from: Date(timeIntervalSince1970: seconds), timeZone: TimeZone(identifier: "UTC")!,
                                                   formatOptions: [.withInternetDateTime, .withFractionalSeconds])
            print("\(time) \(r.source)/\(r.stream) #\(r.sequence) \(r.kind) \(String(decoding: r.payload, as: UTF8.self))")
            printed += 1
        }
    }
}
