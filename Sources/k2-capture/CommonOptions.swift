import ArgumentParser
import Capture
import Codecs
import K2CLI
import SegmentLog

/// Options every k2-capture source shares: where and how the segment log is written, when to stop, what to expose.
struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Segment-log directory (created if missing; a crashed writer's log is continued).", valueName: "dir"))
    var out: String

    @Option(help: ArgumentHelp("Block codec: zstd, zstd-9, lz4, snappy, gzip, none.", valueName: "codec"))
    var codec: String = "zstd"

    @Option(help: ArgumentHelp("Roll to a new segment at this size (bytes; K, M, G suffixes).", valueName: "size"))
    var segmentBytes: String = "256M"

    @Option(help: ArgumentHelp("Roll to a new segment at this age (90s, 15m, 1h).", valueName: "duration"))
    var segmentSeconds: String = "1h"

    @Option(help: ArgumentHelp("When to fsync: every-block, never, or an interval (1s, 200ms).", valueName: "policy"))
    var fsync: String = "1s"

    @Option(help: ArgumentHelp("Stop after this long (90s, 15m, 2h); default: run until SIGINT/SIGTERM.", valueName: "duration"))
    var duration: String?

    @Option(help: ArgumentHelp("Stop after this many messages have been recorded.", valueName: "n"))
    var maxMessages: Int64?

    @Option(help: ArgumentHelp("Frames above this size are kept with the oversized flag, not parsed (K, M suffixes).", valueName: "size"))
    var maxFrameBytes: String = "1M"

    @Option(help: ArgumentHelp("Serve Prometheus metrics on http://127.0.0.1:<port>/metrics.", valueName: "port"))
    var metricsPort: Int?

    @Option(help: ArgumentHelp("Reconnect when a connection has been silent this long.", valueName: "duration"))
    var stallTimeout: String = "60s"

    @Option(help: ArgumentHelp("With --max-connection-age: how long the old and the new connection may run side by side without a common frame on every stream before the old one is closed anyway (a quiet stream, or frames that differ per connection).", valueName: "duration"))
    var handoverTimeout: String = "10s"

    @Option(help: ArgumentHelp("Replace ws[s]://HOST:PORT of the exchange URL (the path and subscription stay).", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("PEM file of certificates to trust for wss:// instead of the system's.", valueName: "file"))
    var caFile: String?

    @Flag(help: "Print the exit summary as JSON on stdout (otherwise a short text on stderr).")
    var json = false

    func captureOptions() throws -> CaptureOptions {
        var options = CaptureOptions(directory: out)
        guard let codec = CompressionCodec(name: codec) else {
            throw ValidationError("--codec \(codec) is not a codec; use zstd, zstd-9, lz4, snappy, gzip, deflate or none")
        }
        options.writer.codec = codec
        options.writer.segmentBytes = try Self.size(segmentBytes, "--segment-bytes")
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
        options.maxFrameBytes = Int(try Self.size(maxFrameBytes, "--max-frame-bytes"))
        options.metricsPort = metricsPort
        options.stallTimeoutNanos = try Self.duration(stallTimeout, "--stall-timeout")
        options.handoverTimeoutNanos = try Self.duration(handoverTimeout, "--handover-timeout")
        options.trustRootsFile = caFile
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

    /// `1048576`, `64K`, `256M`, `1G` (binary multiples).
    static func size(_ text: String, _ option: String) throws -> Int64 {
        let multipliers: [Character: Int64] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var digits = text.uppercased()
        if digits.hasSuffix("IB") { digits.removeLast(2) } else if digits.hasSuffix("B") { digits.removeLast() }
        var multiplier: Int64 = 1
        if let last = digits.last, let m = multipliers[last] { multiplier = m; digits.removeLast() }
        guard let value = Int64(digits), value > 0 else { throw ValidationError("\(option) \(text) is not a size (1048576, 64K, 256M, 1G)") }
        return value * multiplier
    }
}

/// Prints the summary and ends the process with its exit code.
func finish(_ summary: CaptureSummary, json: Bool) throws -> Never {
    if json {
        try JSONReport.write(summary, program: "k2-capture", format: 1)
    } else {
        StandardError.print("k2-capture: \(summary.source) → \(summary.directory): \(summary.messages) messages, \(summary.bytes) bytes, "
            + "\(summary.gaps) gaps, \(summary.malformed) malformed, \(summary.reconnects) reconnects in \(String(format: "%.1f", summary.durationSeconds)) s; "
            + "stopped by \(summary.stopReason)")
        for stream in summary.streams {
            StandardError.print("  \(stream.stream): \(stream.messages) messages, \(stream.gaps) gaps (\(stream.missingIds) ids missing), last sequence \(stream.lastSequence)")
        }
    }
    if let error = summary.error { StandardError.print("k2-capture: error: \(error)") }
    exit(summary.exitCode)
}

import Foundation
