import SegmentLog

/// Counters of one capture, kept on the capture's event loop and served as Prometheus text (exposition
/// format 0.0.4) by `MetricsHTTPServer` (MetricsEndpoint), and summarised at exit.
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

    func prometheusText(streamNames: [String], nowNanos: Int64) -> String {
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: (StreamCounters) -> String?) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for (i, counters) in streams.enumerated() where i < streamNames.count {
                if let v = value(counters) {
                    out += "\(name){source=\"\(escape(source))\",stream=\"\(escape(streamNames[i]))\"} \(v)\n"
                }
            }
        }
        family("k2_capture_messages_total", "counter", "Messages recorded (frames kept in the log).") { "\($0.messages)" }
        family("k2_capture_bytes_total", "counter", "Payload bytes recorded.") { "\($0.bytes)" }
        family("k2_capture_gaps_total", "counter", "Trade-id gaps detected (each recorded as a gap control record).") { "\($0.gaps)" }
        family("k2_capture_missing_ids_total", "counter", "Trade ids skipped over by the gaps.") { "\($0.missingIds)" }
        family("k2_capture_malformed_total", "counter", "Frames that are not valid JSON, kept with the malformed flag.") { "\($0.malformed)" }
        family("k2_capture_oversized_total", "counter", "Frames above --max-frame-bytes, kept with the oversized flag.") { "\($0.oversized)" }
        family("k2_capture_last_message_age_seconds", "gauge", "Seconds since the stream's last message.") {
            $0.lastReceiveNanos == 0 ? nil : String(format: "%.3f", Double(max(0, nowNanos - $0.lastReceiveNanos)) / 1e9)
        }
        func scalar(_ name: String, _ type: String, _ help: String, _ value: Int64) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name){source=\"\(escape(source))\"} \(value)\n"
        }
        scalar("k2_capture_connects_total", "counter", "WebSocket connections opened.", connects)
        scalar("k2_capture_reconnects_total", "counter", "Connections opened to replace a lost or stalled one.", reconnects)
        scalar("k2_capture_disconnects_total", "counter", "Connections closed, for any reason.", disconnects)
        scalar("k2_capture_stalls_total", "counter", "Connections closed by the stall watchdog.", stalls)
        scalar("k2_capture_pings_total", "counter", "Server pings answered.", pings)
        scalar("k2_capture_subscription_replies_total", "counter", "Subscription replies recorded.", subscriptionReplies)
        return out
    }

    private func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
    }
}

import Foundation
