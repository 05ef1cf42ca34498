import Capture
import Foundation
import K2CLI

/// How a capture ends: its summary printed (JSON on stdout with `--json`, else a short text on stderr) and
/// the process exited with the summary's code.
enum CaptureExit {
    /// The version of the `--json` summary's keys (2: snake_case keys, Kafka streams with topic and partition).
    static let reportFormat = 2

    static func finish(_ summary: CaptureSummary, json: Bool) throws -> Never {
        if json {
            try JSONReport.write(summary, program: "k2-capture", format: reportFormat)
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
}
