import SegmentLog

/// Counters of one capture, kept as plain integers on the capture's event loop (a frame costs no lock or
/// atomic), summarised at exit and handed to swift-metrics by `CaptureMetricsExport` when /metrics is scraped.
final class CaptureMetrics {
    struct StreamCounters {
        var messages: Int64 = 0
        var bytes: Int64 = 0
        var gaps: Int64 = 0
        var missingIds: Int64 = 0
        var malformed: Int64 = 0
        var oversized: Int64 = 0
        var lastReceiveNanos: Int64 = 0
    }

    let source: String
    // Updated once per frame on the capture's event loop only; no overlapping access to check at run time.
    @exclusivity(unchecked) var streams: [StreamCounters] = []
    var connects: Int64 = 0
    var reconnects: Int64 = 0
    var disconnects: Int64 = 0
    var stalls: Int64 = 0
    var pings: Int64 = 0
    var subscriptionReplies: Int64 = 0

    init(source: String) { self.source = source }

    func ensure(_ index: Int) {
        while streams.count <= index { streams.append(StreamCounters()) }
    }

    /// Counts one recorded frame of stream `index` (made ready with `ensure`).
    @inline(__always)
    func recordMessage(stream index: Int, bytes: Int, receiveTimeNanos: Int64, flags: RecordFlags) {
        streams.withUnsafeMutableBufferPointer { all in
            all[index].messages += 1
            all[index].bytes += Int64(bytes)
            all[index].lastReceiveNanos = receiveTimeNanos
            if flags.contains(.malformed) { all[index].malformed += 1 }
            if flags.contains(.oversized) { all[index].oversized += 1 }
        }
    }

    var totalMessages: Int64 { streams.reduce(0) { $0 + $1.messages } }
    var totalBytes: Int64 { streams.reduce(0) { $0 + $1.bytes } }
    var totalGaps: Int64 { streams.reduce(0) { $0 + $1.gaps } }
    var totalMalformed: Int64 { streams.reduce(0) { $0 + $1.malformed } }
    var totalOversized: Int64 { streams.reduce(0) { $0 + $1.oversized } }

    /// The `# HELP` text of each metric `CaptureMetricsExport` makes.
    static let help: [String: String] = [
        "k2_capture_messages_total": "Messages recorded (frames kept in the log).",
        "k2_capture_bytes_total": "Payload bytes recorded.",
        "k2_capture_gaps_total": "Trade-id gaps detected (each recorded as a gap control record).",
        "k2_capture_missing_ids_total": "Trade ids skipped over by the gaps.",
        "k2_capture_malformed_total": "Frames that are not valid JSON, kept with the malformed flag.",
        "k2_capture_oversized_total": "Frames above --max-frame-bytes, kept with the oversized flag.",
        "k2_capture_last_message_age_seconds": "Seconds since the stream's last message.",
        "k2_capture_connects_total": "WebSocket connections opened.",
        "k2_capture_reconnects_total": "Connections opened to replace a lost or stalled one.",
        "k2_capture_disconnects_total": "Connections closed, for any reason.",
        "k2_capture_stalls_total": "Connections closed by the stall watchdog.",
        "k2_capture_pings_total": "Server pings answered.",
        "k2_capture_subscription_replies_total": "Subscription replies recorded.",
    ]
}
