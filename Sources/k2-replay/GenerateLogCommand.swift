import ArgumentParser
import Foundation
import K2CLI
import SegmentLog

/// A synthetic Binance log for benchmarks and demos: wrapped trade events with consecutive trade ids,
/// evenly spaced receive times. Not shown in `--help`.
struct GenerateLogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate-log",
        abstract: "Write a synthetic Binance trade log (benchmarks, demos).",
        shouldDisplay: false)

    @Option(help: "Log directory to create.") var out: String
    @Option(help: "Number of trade frames.") var trades: Int = 100_000
    @Option(help: "Comma-separated symbols, used round-robin.") var symbols: String = "BTCUSDT,ETHUSDT"
    @Option(name: .customLong("spacing-us"), help: "Receive-time spacing between frames, microseconds.") var spacingMicros: Int64 = 100
    @Option(name: .customLong("start"), help: "Receive time of the first frame (epoch ms).") var startMs: Int64 = 1_707_472_800_000

    func run() throws {
        let writer = try SegmentLogWriter(directory: out, diagnostics: { StandardError.print("log: \($0)") })
        let list = symbols.split(separator: ",").map(String.init)
        var ids = [Int64](repeating: 3_000_000_000, count: list.count)
        for index in 0..<trades {
            let slot = index % list.count
            let symbol = list[slot]
            ids[slot] += 1
            let receive = startMs * 1_000_000 + Int64(index) * spacingMicros * 1000
            let eventMs = receive / 1_000_000
            let frame = #"{"stream":"\#(symbol.lowercased())@trade","data":{"e":"trade","E":\#(eventMs),"s":"\#(symbol)","t":\#(ids[slot]),"p":"\#(42000 + index % 997).\#(index % 100)","q":"0.\#(index % 9973 + 1)","T":\#(eventMs - 1),"m":\#(index % 2 == 0),"M":true}}"#
            try writer.append(LogRecord(receiveTimeNanos: receive, source: "binance", stream: symbol.lowercased() + "@trade",
                                        payload: Array(frame.utf8)))
        }
        try writer.close()
    }
}
