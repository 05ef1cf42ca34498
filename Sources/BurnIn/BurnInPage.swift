import Foundation

/// The burn-in report as one self-contained HTML page a person opens in a browser: the verdict, the
/// tables' latency and checks, and four charts over time (rate, lag, latency, memory) drawn as inline SVG.
public enum BurnInPage {
    public static func html(_ report: BurnInReport) -> String {
        var out = """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>k2 burn-in \(escape(report.startedAt))</title>
        <style>
        body { font-family: sans-serif; margin: 24px; color: #222; }
        h1 { font-size: 22px; } h2 { font-size: 17px; margin-top: 28px; }
        .pass { color: #137333; } .fail { color: #b3261e; }
        table { border-collapse: collapse; font-size: 13px; } td, th { border: 1px solid #ccc; padding: 3px 8px; text-align: right; }
        th { background: #f3f3f3; } td.l, th.l { text-align: left; }
        svg { background: #fafafa; border: 1px solid #ddd; } .legend span { margin-right: 16px; font-size: 13px; }
        </style></head><body>
        """
        let verdict = report.interrupted ? "<span class=\"fail\">INTERRUPTED</span>"
            : report.passed ? "<span class=\"pass\">PASSED</span>" : "<span class=\"fail\">FAILED</span>"
        out += "<h1>k2 burn-in: \(verdict)</h1>\n<p>Started \(escape(report.startedAt)), \(Int(report.seconds)) s, target "
            + "\(Int(report.targetRate)) msg/s (±\(report.rateTolerance * 100)% per minute after \(Int(report.warmupSeconds)) s warm-up), "
            + "\(report.messagesProduced) messages in \(report.passesDone) whole passes; topic \(escape(report.topic)); tables written by "
            + "\(escape(report.writers)). Load average at start and end: \(report.loadAverage.map(escape).joined(separator: " / ")).</p>\n"
        if !report.failures.isEmpty {
            out += "<ul class=\"fail\">" + report.failures.map { "<li>\(escape($0))</li>" }.joined() + "</ul>\n"
        }
        let colors = ["#1a73e8", "#e8710a", "#188038", "#a142f4"]
        out += "<h2>Rate (messages/s acknowledged by Kafka, each second)</h2>\n"
        out += chart(report.samples.map { [$0.t, $0.rate] }, series: [("rate", colors[0])], target: report.targetRate)
        let names = report.tables.map(\.name)
        out += "<h2>Lag (messages of the topic not yet in each table)</h2>\n"
        out += chart(report.samples.map { [$0.t] + $0.lag.map(Double.init) }, series: zip(names, colors).map { ($0, $1) })
        out += "<h2>End-to-end latency p99 (ms, produce time to ingestion_timestamp, rows committed in each 5 s)</h2>\n"
        let latencyRows = report.samples.filter { $0.latencyP99Ms.contains { $0 != nil } }
        out += chart(latencyRows.map { [$0.t] + $0.latencyP99Ms.map { $0 ?? .nan } }, series: zip(names, colors).map { ($0, $1) })
        out += "<h2>Memory (resident MiB) and CPU (cores, ×100)</h2>\n"
        out += chart(report.samples.map { [$0.t, Double($0.residentBytes) / 1_048_576, $0.cpuCores * 100] },
                     series: [("resident MiB", colors[0]), ("CPU cores ×100", colors[1])])

        out += "<h2>Tables</h2>\n<table><tr><th class=\"l\">table</th><th>style</th><th>rows</th><th>max lag</th><th>final lag</th>"
            + "<th>latency p50 ms</th><th>p99 ms</th><th>max ms</th><th>rows measured</th></tr>\n"
        for t in report.tables {
            out += "<tr><td class=\"l\">\(escape(t.name))</td><td>\(t.style)</td><td>\(t.rows)</td><td>\(t.maxLag)</td><td>\(t.finalLag)</td>"
                + "<td>\(t.latencyMs.p50)</td><td>\(t.latencyMs.p99)</td><td>\(t.latencyMs.max)</td><td>\(t.rowsLatencyMeasured)</td></tr>\n"
        }
        out += "</table>\n<h2>Parity checks</h2>\n<table><tr><th>t (s)</th><th class=\"l\">table</th><th class=\"l\">offsets</th><th>result</th>"
            + "<th>rows (table)</th><th>rows (Kafka)</th><th>seconds</th><th class=\"l\">problems</th></tr>\n"
        for v in report.verifies {
            out += "<tr><td>\(Int(v.t))</td><td class=\"l\">\(escape(v.table))</td><td class=\"l\">\(escape(v.offsets ?? "the whole topic"))</td>"
                + "<td class=\"\(v.parity ? "pass" : "fail")\">\(v.parity ? "parity" : "mismatch")</td><td>\(v.rowsTable)</td><td>\(v.rowsKafka)</td>"
                + "<td>\(v.seconds)</td><td class=\"l\">\(escape(v.problems.joined(separator: "; ")))</td></tr>\n"
        }
        out += "</table>\n<h2>Rate per minute</h2>\n<table><tr><th>minute</th><th>messages</th><th>msg/s</th><th>slip</th><th class=\"l\"></th></tr>\n"
        for m in report.minutes {
            let bad = !m.warmup && abs(m.slip) > report.rateTolerance
            out += "<tr><td>\(m.minute)</td><td>\(m.messages)</td><td>\(m.rate)</td>"
                + "<td class=\"\(bad ? "fail" : "")\">\(String(format: "%+.3f%%", m.slip * 100))</td><td class=\"l\">\(m.warmup ? "warm-up" : "")</td></tr>\n"
        }
        out += "</table>\n<h2>Memory and CPU by part</h2>\n<p>Resident: \(report.memory.afterWarmup >> 20) MiB after warm-up, "
            + "\(report.memory.lastMinute >> 20) MiB in the last minute, peak \(report.memory.peak >> 20) MiB (one process: the parts share it).</p>\n"
        out += "<table><tr><th class=\"l\">part (threads)</th><th>CPU seconds</th></tr>\n"
        for (part, seconds) in report.cpuSecondsByPart.sorted(by: { $0.value > $1.value }) {
            out += "<tr><td class=\"l\">\(escape(part))</td><td>\(seconds)</td></tr>\n"
        }
        out += "</table>\n</body></html>\n"
        return out
    }

    /// A line chart: rows of [x, y1, y2, ...] (NaN: no point), one coloured line per series, optional target line.
    static func chart(_ rows: [[Double]], series: [(String, String)], target: Double? = nil) -> String {
        let width = 1300.0, height = 260.0, left = 70.0, bottom = 30.0, top = 10.0, right = 10.0
        let xs = rows.map { $0[0] }
        let ys = rows.flatMap { $0.dropFirst() }.filter { $0.isFinite } + (target.map { [$0 * 1.02, $0 * 0.98] } ?? [])
        guard let xMax = xs.max(), let yMaxRaw = ys.max() else { return "<p>(no data)</p>\n" }
        let xMin = xs.min() ?? 0
        let yMin = min(0, ys.min() ?? 0)
        let yMax = yMaxRaw > yMin ? yMaxRaw * 1.05 : yMin + 1
        func px(_ x: Double) -> Double { left + (x - xMin) / max(1e-9, xMax - xMin) * (width - left - right) }
        func py(_ y: Double) -> Double { height - bottom - (y - yMin) / (yMax - yMin) * (height - bottom - top) }
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\">\n"
        for i in 0...4 {
            let y = yMin + (yMax - yMin) * Double(i) / 4
            svg += "<line x1=\"\(left)\" y1=\"\(py(y))\" x2=\"\(width - right)\" y2=\"\(py(y))\" stroke=\"#e0e0e0\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(py(y) + 4)\" font-size=\"11\" text-anchor=\"end\">\(label(y))</text>\n"
        }
        for i in 0...6 {
            let x = xMin + (xMax - xMin) * Double(i) / 6
            svg += "<text x=\"\(px(x))\" y=\"\(height - 10)\" font-size=\"11\" text-anchor=\"middle\">\(Int(x)) s</text>\n"
        }
        if let target {
            svg += "<line x1=\"\(left)\" y1=\"\(py(target))\" x2=\"\(width - right)\" y2=\"\(py(target))\" stroke=\"#b3261e\" stroke-dasharray=\"6,4\"/>\n"
        }
        for (index, (_, color)) in series.enumerated() {
            var points: [String] = []
            for row in rows where index + 1 < row.count && row[index + 1].isFinite {
                points.append(String(format: "%.1f,%.1f", px(row[0]), py(row[index + 1])))
            }
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.3\" points=\"\(points.joined(separator: " "))\"/>\n"
        }
        svg += "</svg>\n<div class=\"legend\">" + series.map { "<span style=\"color:\($0.1)\">■ \(escape($0.0))</span>" }.joined()
            + (target != nil ? "<span style=\"color:#b3261e\">- - target</span>" : "") + "</div>\n"
        return svg
    }

    private static func label(_ value: Double) -> String {
        abs(value) >= 10_000 ? String(format: "%.0fk", value / 1000) : abs(value) >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
