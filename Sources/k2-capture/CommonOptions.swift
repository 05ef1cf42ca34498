import ArgumentParser
import Capture
import Codecs
import K2CLI
import MetricsEndpoint
import SegmentLog

/// Options every k2-capture source shares: where and how the segment log is written, when to stop, what to
/// expose. The WebSocket sources add `WebSocketOptions`.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Segment-log directory (created if missing; a crashed writer's log is continued).", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp("Block codec: zstd, zstd-9, lz4, snappy, gzip, none.", valueName: "codec"))
    var codec: String = "zstd"

    @Option(help: ArgumentHelp("Roll to a new segment at this size (256M = 256MB = 256MiB; K, M, G are powers of 1024).", valueName: "size"))
    var segmentBytes = ByteSize(bytes: 256 << 20)

    @Option(help: ArgumentHelp("Roll to a new segment at this age (90s, 15m, 1h).", valueName: "duration"))
    var segmentSeconds: String = "1h"

    @Option(help: ArgumentHelp("When to fsync: every-block, never, or an interval (1s, 200ms).", valueName: "policy"))
    var fsync: String = "1s"

    @Option(help: ArgumentHelp("Stop after this long (90s, 15m, 2h); without it, run until SIGINT/SIGTERM.", valueName: "duration"))
    var duration: String?

    @Option(help: ArgumentHelp("Stop after this many messages have been recorded.", valueName: "n"))
    var maxMessages: Int64?

    @Option(help: ArgumentHelp("Serve Prometheus metrics at http://HOST:PORT/metrics (and /healthz): 127.0.0.1:9464 for this host only, 0.0.0.0:9464 to be scraped from others.", valueName: "host:port"))
    var metricsAddress: String?

    @Option(help: .hidden) var metricsPort: Int?   // the earlier spelling: --metrics-address 127.0.0.1:PORT

    @Flag(help: "Print the exit summary as JSON on stdout (otherwise a short text on stderr).")
    var json = false

    func captureOptions() throws -> CaptureOptions {
        var options = CaptureOptions(directory: out)
        guard let codec = CompressionCodec(name: codec) else {
            throw ValidationError("--codec \(codec) is not a codec; use zstd, zstd-9, lz4, snappy, gzip, deflate or none")
        }
        options.writer.codec = codec
        options.writer.segmentBytes = segmentBytes.bytes
        options.writer.segmentSeconds = try Self.duration(segmentSeconds, "--segment-seconds") / 1_000_000_000
        guard options.writer.segmentSeconds > 0 else { throw ValidationError("--segment-seconds must be at least 1s") }
        switch fsync {
        case "every-block", "always": options.writer.fsync = .everyBlock
        case "never", "off": options.writer.fsync = .never
        default: options.writer.fsync = .interval(milliseconds: Int(try Self.duration(fsync, "--fsync") / 1_000_000))
        }
        options.durationNanos = try duration.map { try Self.duration($0, "--duration") }
        if let maxMessages, maxMessages < 1 { throw ValidationError("--max-messages must be at least 1") }
        options.maxMessages = maxMessages
        if let metricsAddress {
            guard let address = MetricsHTTPServer.parseAddress(metricsAddress) else {
                throw ValidationError("--metrics-address \(metricsAddress) is not HOST:PORT (127.0.0.1:9464, 0.0.0.0:9464)")
            }
            options.metricsAddress = address
        } else if let metricsPort {
            options.metricsAddress = ("127.0.0.1", metricsPort)
        }
        return options
    }

    /// `23h30m`, `90s`, `1500ms`: one or more number+unit parts, summed.
    static func duration(_ text: String, _ option: String) throws -> Int64 {
        var total: Int64 = 0
        var part = ""
        var sawUnit = false
        for character in text {
            if (character.isNumber || character == ".") && sawUnit {
                guard let nanos = DurationParser.nanoseconds(part) else { throw ValidationError("\(option) \(text) is not a duration (90s, 15m, 2h, 23h30m)") }
                total += nanos
                part = ""
                sawUnit = false
            }
            if character.isLetter { sawUnit = true }
            part.append(character)
        }
        guard let nanos = DurationParser.nanoseconds(part) else { throw ValidationError("\(option) \(text) is not a duration (90s, 15m, 2h, 23h30m)") }
        return total + nanos
    }
}
