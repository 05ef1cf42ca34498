import K2Core

/// The report as one self-contained HTML page (inline CSS and SVG, no scripts, no external assets): rows
/// of each side over time as a line chart, the partition table, every missing, duplicated and differing
/// range as text with the times at its edges, the tables' health, and per partition a timeline of its
/// offsets with those ranges drawn where they fall. Everything a hover shows is also written out, since a
/// printed or screenshotted report has no hover.
public enum ParityHTMLRenderer {
    static let colors = (left: "#1f77b4", right: "#ff7f0e", truth: "#7f7f7f", missing: "#d62728",
                         duplicate: "#9467bd", payload: "#e377c2", retention: "#bbbbbb")

    public static func render(_ report: ParityReport) -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>k2-verify: \(escape(report.sides.left.name)) vs \(escape(report.sides.right.name))</title>
        <style>
        body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fff}
        h1{font-size:20px;margin:0 0 8px} h2{font-size:16px;margin:24px 0 8px}
        .badge{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:bold}
        .badge.ok{background:#2ca02c} .badge.bad{background:#d62728}
        table{border-collapse:collapse;font-size:13px} td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
        td:first-child,th:first-child,td.text,th.text{text-align:left} tr.mismatch td{background:#fdecea}
        .legend span{display:inline-block;margin-right:16px;font-size:13px}
        .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
        svg text{font-size:11px;fill:#444}
        ul.problems{font-size:13px} p.note{font-size:12px;color:#555}
        h3{font-size:14px;margin:16px 0 6px} td.miss{color:#b71c1c} td.dup{color:#6a3d9a}
        table.health td:first-child{font-weight:bold} td.problem{color:#b71c1c}
        </style></head><body>
        <h1>k2-verify parity report <span class="badge \(report.parity ? "ok" : "bad")">\(report.parity ? "PARITY" : "MISMATCH")</span></h1>

        """
        html += "<table class=\"sides\"><tr><th>side</th><th class=\"text\">kind</th><th class=\"text\">name</th><th>snapshot</th><th>rows</th></tr>\n"
        let sides: [(String, SideDescription?, Int64?)] = [("left", report.sides.left, report.summary.rows.left),
                                                          ("right", report.sides.right, report.summary.rows.right),
                                                          ("truth", report.sides.truth, report.summary.rows.truth)]
        for (label, side, rows) in sides {
            guard let side else { continue }
            html += "<tr><td>\(label)</td><td class=\"text\">\(escape(side.kind))</td><td class=\"text\">\(escape(side.name))</td><td>\(side.snapshotId.map(String.init) ?? "")</td><td>\(rows ?? 0)</td></tr>\n"
        }
        html += "</table>\n<p>generated \(escape(report.generatedAt))"
        if let since = report.scope.since { html += ", since \(escape(since))" }
        if let until = report.scope.until { html += ", until \(escape(until))" }
        if let partitions = report.scope.partitions { html += ", partitions \(partitions.map(String.init).joined(separator: ","))" }
        html += report.payloadCompared ? ", payloads compared" : ", payloads not compared"
        html += "</p>\n"

        if !report.summary.problems.isEmpty {
            html += "<h2>Problems</h2><ul class=\"problems\">\n"
            for problem in report.summary.problems { html += "<li>\(escape(problem))</li>\n" }
            html += "</ul>\n"
        }

        html += "<h2>Rows per \(bucketName(report.countsOverTime.bucketSeconds)) of Kafka timestamp</h2>\n" + timeChart(report)
        html += "<h2>Partitions</h2>\n" + partitionTable(report)
        html += rangeTables(report)
        html += healthTables(report)
        html += "<h2>Offset timelines</h2>\n"
        html += """
        <div class="legend"><span><i style="background:\(colors.missing)"></i>missing</span>\
        <span><i style="background:\(colors.duplicate)"></i>duplicated</span>\
        <span><i style="background:\(colors.payload)"></i>payload differs</span>\
        <span><i style="background:\(colors.retention)"></i>past retention</span></div>

        """
        for partition in report.partitions { html += timeline(partition, hasTruth: report.sides.truth != nil) }
        html += "</body></html>\n"
        return html
    }

    // MARK: rows over time

    /// The series' bucket width in words: "hour", "minute", "10 seconds".
    static func bucketName(_ seconds: Int64) -> String {
        switch seconds {
        case 1: return "second"
        case 60: return "minute"
        case 3600: return "hour"
        case let s where s % 60 == 0: return "\(s / 60) minutes"
        default: return "\(seconds) seconds"
        }
    }

    /// Rows per bucket over the report's whole time span, buckets without rows drawn at zero (an outage is
    /// a drop to the axis, not a line straight across it). The time axis is labelled in hours and minutes,
    /// with seconds when the buckets are shorter than a minute, and the date where it changes.
    static func timeChart(_ report: ParityReport) -> String {
        var width = report.countsOverTime.bucketSeconds
        let counts = report.countsOverTime.counts
        var series: [(String, String, [Int64: Int64]?)] = [("left", colors.left, seconds(counts.left)),
                                                          ("right", colors.right, seconds(counts.right)),
                                                          ("truth", colors.truth, seconds(counts.truth))]
        var starts = series.flatMap { $0.2?.keys.map { $0 } ?? [] }
        // Hours over years (a stray timestamp far from the rest) would be a page of points: at most ~1000
        // buckets are drawn, joined k at a time.
        if let low = starts.min(), let high = starts.max(), (high - low) / width >= 1000 {
            let joined = width * ((high - low) / width / 1000 + 1)
            series = series.map { name, color, values in
                (name, color, values.map { Dictionary($0.map { (low + ($0.key - low) / joined * joined, $0.value) }, uniquingKeysWith: +) })
            }
            starts = series.flatMap { $0.2?.keys.map { $0 } ?? [] }
            width = joined
        }
        let svgWidth = 900.0, height = 280.0, left = 70.0, bottom = 48.0, top = 16.0, right = 24.0
        var svg = "<svg id=\"rows-over-time\" data-bucket-seconds=\"\(width)\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(svgWidth))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(svgWidth)) \(Int(height))\">\n"
        svg += "<rect x=\"0\" y=\"0\" width=\"\(Int(svgWidth))\" height=\"\(Int(height))\" fill=\"#fafafa\"/>\n"
        guard let first = starts.min(), let last = starts.max() else {
            return svg + "<text x=\"20\" y=\"40\">no rows</text></svg>\n"
        }
        let buckets = Array(stride(from: first, through: last, by: Int(width)))
        let maxRows = max(1, series.compactMap { $0.2?.values.max() }.max() ?? 1)
        let plotWidth = svgWidth - left - right, plotHeight = height - top - bottom
        func x(_ start: Int64) -> Double {
            buckets.count == 1 ? left + plotWidth / 2 : left + plotWidth * Double(start - first) / Double(last - first)
        }
        func y(_ rows: Int64) -> Double { top + plotHeight * (1 - Double(rows) / Double(maxRows)) }
        svg += "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(left + plotWidth)\" y2=\"\(top + plotHeight)\" stroke=\"#888\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotHeight)\" stroke=\"#888\"/>\n"
        // Rows axis: 0, half and the maximum, with light grid lines.
        for rows in [0, maxRows / 2, maxRows] {
            svg += "<line x1=\"\(left)\" y1=\"\(fmt(y(rows)))\" x2=\"\(left + plotWidth)\" y2=\"\(fmt(y(rows)))\" stroke=\"#e4e4e4\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(fmt(y(rows) + 4))\" text-anchor=\"end\">\(rows)</text>\n"
        }
        svg += "<text x=\"12\" y=\"\(fmt(top + plotHeight / 2))\" transform=\"rotate(-90 12 \(fmt(top + plotHeight / 2)))\" text-anchor=\"middle\">rows per \(escape(bucketName(width)))</text>\n"
        // Time axis: about eight ticks at a round step, labelled HH:MM (HH:MM:SS under a minute), with the
        // date under the first tick and wherever the day changes.
        let spanSeconds = max(Int64(1), last - first + width)
        let steps: [Int64] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800]
        let step: Int64 = steps.first { spanSeconds / $0 <= 8 } ?? (spanSeconds / 8 / 86400 + 1) * 86400
        var tick = (first + step - 1) / step * step
        if tick > last { tick = first }
        var lastDay: Int64 = .min
        while tick <= max(last, first) {
            let day = tick >= 0 ? tick / 86400 : (tick - 86399) / 86400
            let secondOfDay = tick - day * 86400
            var label = "\(CivilDate.padded(secondOfDay / 3600, 2)):\(CivilDate.padded(secondOfDay % 3600 / 60, 2))"
            if width < 60 || step < 60 { label += ":\(CivilDate.padded(secondOfDay % 60, 2))" }
            let tx = fmt(x(tick))
            svg += "<line class=\"tick\" x1=\"\(tx)\" y1=\"\(top + plotHeight)\" x2=\"\(tx)\" y2=\"\(top + plotHeight + 4)\" stroke=\"#888\"/>"
            svg += "<text x=\"\(tx)\" y=\"\(top + plotHeight + 16)\" text-anchor=\"middle\">\(label)</text>\n"
            if day != lastDay {
                svg += "<text x=\"\(tx)\" y=\"\(top + plotHeight + 29)\" text-anchor=\"middle\">\(CivilDate(daysSinceEpoch: day).text)</text>\n"
                lastDay = day
            }
            tick += step
            if buckets.count == 1 { break }
        }
        let drawPoints = buckets.count <= 60
        var legendX = left
        for (name, color, values) in series {
            guard let values else { continue }
            let points = buckets.map { "\(fmt(x($0))),\(fmt(y(values[$0] ?? 0)))" }
            // Later series are thinner, so where the sides agree every line still shows under the next.
            let stroke = ["left": "4.5", "right": "2", "truth": "1.5"][name] ?? "2"
            svg += "<polyline class=\"series series-\(name)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(stroke)\"\(name == "truth" ? " stroke-dasharray=\"5 3\"" : "") points=\"\(points.joined(separator: " "))\"/>\n"
            if drawPoints {
                for start in buckets {
                    svg += "<circle class=\"point-\(name)\" cx=\"\(fmt(x(start)))\" cy=\"\(fmt(y(values[start] ?? 0)))\" r=\"2.5\" fill=\"\(color)\"><title>\(name) \(escape(CivilTime.timestamp(micros: start * 1_000_000))): \(values[start] ?? 0) rows</title></circle>\n"
                }
            }
            svg += "<rect x=\"\(fmt(legendX))\" y=\"\(height - 14)\" width=\"10\" height=\"10\" fill=\"\(color)\"/><text x=\"\(fmt(legendX + 14))\" y=\"\(height - 5)\">\(name)</text>\n"
            legendX += 70
        }
        return svg + "</svg>\n"
    }

    /// A series keyed by RFC 3339 bucket starts, keyed by epoch seconds instead.
    private static func seconds(_ values: [String: Int64]?) -> [Int64: Int64]? {
        guard let values else { return nil }
        var result: [Int64: Int64] = [:]
        for (key, rows) in values {
            if let seconds = CivilTime.epochSeconds(timestamp: key) { result[seconds, default: 0] += rows }
        }
        return result
    }

    // MARK: partitions

    static func partitionTable(_ report: ParityReport) -> String {
        var html = "<table class=\"partitions\"><tr><th>partition</th><th>status</th><th>left rows</th><th>right rows</th>"
        if report.sides.truth != nil { html += "<th>truth rows</th>" }
        html += "<th>left offsets</th><th>right offsets</th><th>missing left</th><th>missing right</th><th>dup rows left</th><th>dup rows right</th><th>payload diffs</th></tr>\n"
        for p in report.partitions {
            html += "<tr class=\"\(p.parity ? "ok" : "mismatch")\"><td>\(escape(p.topic))[\(p.partition)]</td><td class=\"text\">\(p.parity ? "ok" : "MISMATCH")</td><td>\(p.left.rows)</td><td>\(p.right.rows)</td>"
            if let truth = p.truth { html += "<td>\(truth.rows)</td>" }
            html += "<td>\(span(p.left))</td><td>\(span(p.right))</td>"
            html += "<td>\(OffsetRanges.offsetCount(p.allMissingInLeft))</td>"
            html += "<td>\(OffsetRanges.offsetCount(p.allMissingInRight))</td>"
            html += "<td>\(p.duplicatesLeft.reduce(0) { $0 + $1.extraRows })</td><td>\(p.duplicatesRight.reduce(0) { $0 + $1.extraRows })</td>"
            html += "<td>\(OffsetRanges.offsetCount((p.payloadMismatches ?? []) + (p.payloadMismatchesLeftVsTruth ?? []) + (p.payloadMismatchesRightVsTruth ?? [])))</td></tr>\n"
        }
        return html + "</table>\n"
    }

    /// Rows of a range table shown per partition; the JSON report lists all of them.
    static let rangeRowLimit = 200

    /// Per mismatched partition, every range a side lacks (with the offsets and times it holds just before
    /// and after: when its data stopped and started again), holds more than once, or holds with a different
    /// payload, and what retention dropped: the text a person copies into a repair or an incident note.
    static func rangeTables(_ report: ParityReport) -> String {
        let mismatched = report.partitions.filter { !$0.parity || !$0.retention.isEmpty }
        guard !mismatched.isEmpty else { return "" }
        var html = "<h2>Missing and duplicate ranges</h2>\n"
        html += "<p class=\"note\">Offsets are inclusive. \"Last held before\" and \"first held after\" are the offsets the side that lacks the range holds next to it, with their Kafka timestamps (UTC).</p>\n"
        for p in mismatched {
            var rows: [String] = []
            for gap in p.gapEdges {
                rows.append("<tr class=\"missing\"><td class=\"text miss\">missing in \(gap.side)</td><td>[\(gap.first), \(gap.last)]</td><td>\(gap.last - gap.first + 1)</td>"
                    + "<td class=\"text\">\(edge(gap.beforeOffset, gap.beforeTimestamp))</td><td class=\"text\">\(edge(gap.afterOffset, gap.afterTimestamp))</td></tr>")
            }
            let duplicates: [(String, [DuplicateRange])] = [("left", p.duplicatesLeft), ("right", p.duplicatesRight), ("truth", p.duplicatesTruth ?? [])]
            for (side, list) in duplicates {
                for d in list {
                    rows.append("<tr class=\"duplicate\"><td class=\"text dup\">\(side) holds each \(d.count) times</td><td>[\(d.first), \(d.last)]</td><td>\(d.extraRows) extra</td><td></td><td></td></tr>")
                }
            }
            let payloads: [(String, [OffsetRange]?)] = [("left and right", p.payloadMismatches), ("left and truth", p.payloadMismatchesLeftVsTruth),
                                                        ("right and truth", p.payloadMismatchesRightVsTruth)]
            for (sides, list) in payloads {
                for r in list ?? [] {
                    rows.append("<tr class=\"payload\"><td class=\"text\">payload differs, \(sides)</td><td>[\(r.first), \(r.last)]</td><td>\(r.last - r.first + 1)</td><td></td><td></td></tr>")
                }
            }
            for note in p.retention {
                for r in note.droppedOffsets {
                    rows.append("<tr class=\"retention\"><td class=\"text\">past \(note.side) retention (not missing)</td><td>[\(r.first), \(r.last)]</td><td>\(r.last - r.first + 1)</td><td></td><td></td></tr>")
                }
            }
            html += "<h3>\(escape(p.topic))[\(p.partition)]</h3>\n"
            html += "<table class=\"ranges\" data-partition=\"\(escape(p.topic))[\(p.partition)]\"><tr><th>what</th><th>offsets</th><th>offsets in range</th><th class=\"text\">last held before</th><th class=\"text\">first held after</th></tr>\n"
            html += rows.prefix(rangeRowLimit).joined(separator: "\n") + "\n</table>\n"
            if rows.count > rangeRowLimit {
                html += "<p class=\"note\">\(rows.count - rangeRowLimit) more range(s) in the JSON report (--json).</p>\n"
            }
        }
        return html
    }

    private static func edge(_ offset: Int64?, _ timestamp: String?) -> String {
        guard let offset else { return "none" }
        return "\(offset) at \(escape(timestamp.map(readable) ?? "?"))"
    }

    /// `2024-02-09T10:00:00.000Z` as `2024-02-09 10:00:00.000`, easier to read in a table cell.
    static func readable(_ timestamp: String) -> String {
        timestamp.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "")
    }

    /// Each Iceberg side's health: what the check found in the table's snapshots and files, problems first.
    static func healthTables(_ report: ParityReport) -> String {
        let tables = [("left", report.health.left), ("right", report.health.right)].compactMap { side, health in health.map { (side, $0) } }
        guard !tables.isEmpty else { return "" }
        var html = "<h2>Table health</h2>\n"
        for (side, h) in tables {
            html += "<h3>\(side): \(escape(h.table)) <span class=\"badge \(h.problems.isEmpty ? "ok" : "bad")\">\(h.problems.isEmpty ? "healthy" : "\(h.problems.count) problem(s)")</span></h3>\n"
            html += "<table class=\"health\" data-side=\"\(side)\">\n"
            for problem in h.problems { html += "<tr><td>problem</td><td class=\"text problem\">\(escape(problem))</td></tr>\n" }
            html += "<tr><td>snapshot</td><td class=\"text\">\(h.snapshotId.map(String.init) ?? "none") (\(h.snapshots) snapshot(s), \(h.dataFiles) data file(s))</td></tr>\n"
            let match = h.totalRecordsMatch.map { $0 ? "match" : "DIFFER" } ?? "not comparable under a scope"
            html += "<tr><td>total-records</td><td class=\"text\">summary \(h.summaryTotalRecords.map(String.init) ?? "none"), rows read \(h.rowsRead.map(String.init) ?? "n/a"): \(match)</td></tr>\n"
            html += "<tr><td>delete files</td><td class=\"text\">\(h.deleteFiles) live\(h.rowsDeleted.map { ", \($0) row(s) deleted" } ?? "")</td></tr>\n"
            for file in h.duplicateAddedFiles {
                html += "<tr><td>file added twice</td><td class=\"text problem\">\(escape(file.path)) by snapshots \(file.snapshotIds.map(String.init).joined(separator: ", "))\(file.records.map { " (\($0) records)" } ?? "")</td></tr>\n"
            }
            for marker in h.commitMarkers {
                html += "<tr><td>commit marker</td><td class=\"text\">\(escape(marker.key)) = \(escape(marker.value)) (snapshot \(marker.snapshotId))</td></tr>\n"
            }
            html += "</table>\n"
        }
        return html
    }

    /// One lane per side over the partition's whole offset span: the side's extent as a light bar, then the
    /// ranges it lacks (red), its duplicated offsets (purple), payload mismatches (pink) and offsets past
    /// its retention (grey). Hour boundaries are marked from the offsets each hour spans.
    static func timeline(_ p: PartitionReport, hasTruth: Bool) -> String {
        let counts = [p.left, p.right] + (hasTruth ? [p.truth!] : [])
        let lows = counts.compactMap(\.minOffset) + p.retention.flatMap { $0.droppedOffsets.map(\.first) }
        let highs = counts.compactMap(\.maxOffset)
        let name = "\(p.topic)[\(p.partition)]"
        guard let low = lows.min(), let high = highs.max() else {
            return "<p>\(escape(name)): no rows on any side</p>\n"
        }
        let width = 900.0, laneHeight = 18.0, labelWidth = 60.0, top = 22.0
        let lanes: [(String, PartitionSideCounts, [OffsetRange], [DuplicateRange], [OffsetRange])] = {
            var result: [(String, PartitionSideCounts, [OffsetRange], [DuplicateRange], [OffsetRange])] = [
                ("left", p.left, p.allMissingInLeft, p.duplicatesLeft, (p.payloadMismatches ?? []) + (p.payloadMismatchesLeftVsTruth ?? [])),
                ("right", p.right, p.allMissingInRight, p.duplicatesRight, (p.payloadMismatches ?? []) + (p.payloadMismatchesRightVsTruth ?? [])),
            ]
            if hasTruth, let truth = p.truth {
                result.append(("truth", truth, p.missingInTruth ?? [], p.duplicatesTruth ?? [], []))
            }
            return result
        }()
        let height = top + Double(lanes.count) * (laneHeight + 6) + 18
        let plotWidth = width - labelWidth - 10
        let span = Double(high - low + 1)
        func x(_ offset: Int64) -> Double { labelWidth + plotWidth * Double(offset - low) / span }
        func w(_ first: Int64, _ last: Int64) -> Double { max(1.5, plotWidth * Double(last - first + 1) / span) }

        var svg = "<svg class=\"timeline\" data-partition=\"\(escape(name))\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
        svg += "<text x=\"0\" y=\"14\" font-weight=\"bold\">\(escape(name)) \(p.parity ? "ok" : "MISMATCH")</text>"
        // The ends of the axis: offsets, with the earliest and latest Kafka timestamp any side holds.
        let earliest = counts.compactMap(\.minTimestamp).min().map { " (" + readable($0) + ")" } ?? ""
        let latest = counts.compactMap(\.maxTimestamp).max().map { " (" + readable($0) + ")" } ?? ""
        svg += "<text x=\"\(fmt(labelWidth))\" y=\"\(fmt(height - 4))\">offset \(low)\(escape(earliest))</text><text x=\"\(fmt(width - 10))\" y=\"\(fmt(height - 4))\" text-anchor=\"end\">offset \(high)\(escape(latest))</text>\n"
        for hour in p.rowsByHour.dropFirst() {
            svg += "<line class=\"hour\" x1=\"\(fmt(x(hour.minOffset)))\" y1=\"\(top - 4)\" x2=\"\(fmt(x(hour.minOffset)))\" y2=\"\(fmt(height - 16))\" stroke=\"#ddd\"><title>\(escape(hour.hour)) starts near offset \(hour.minOffset)</title></line>\n"
        }
        for (index, lane) in lanes.enumerated() {
            let y = top + Double(index) * (laneHeight + 6)
            svg += "<text x=\"0\" y=\"\(fmt(y + 13))\">\(lane.0)</text>\n"
            if let first = lane.1.minOffset, let last = lane.1.maxOffset {
                svg += "<rect class=\"extent\" x=\"\(fmt(x(first)))\" y=\"\(fmt(y))\" width=\"\(fmt(w(first, last)))\" height=\"\(laneHeight)\" fill=\"#e8eef6\"/>\n"
            }
            for note in p.retention where note.side == lane.0 {
                for r in note.droppedOffsets { svg += rect("retention", r.first, r.last, y, colors.retention, "past \(lane.0) retention: [\(r.first), \(r.last)]") }
            }
            for r in lane.2 {
                svg += rect("missing", r.first, r.last, y, colors.missing, "missing in \(lane.0): [\(r.first), \(r.last)]")
                // Wide enough: the range written on it, so a screenshot names it too.
                if w(r.first, r.last) >= 90 {
                    svg += "<text x=\"\(fmt(x(r.first) + w(r.first, r.last) / 2))\" y=\"\(fmt(y + 13))\" text-anchor=\"middle\" style=\"fill:#fff\">[\(r.first), \(r.last)]</text>\n"
                }
            }
            for d in lane.3 { svg += rect("duplicate", d.first, d.last, y, colors.duplicate, "\(lane.0) holds [\(d.first), \(d.last)] \(d.count) times") }
            for r in lane.4 { svg += rect("payload", r.first, r.last, y + laneHeight / 2, colors.payload, "payload differs: [\(r.first), \(r.last)]", half: true) }
        }
        func rect(_ cls: String, _ first: Int64, _ last: Int64, _ y: Double, _ color: String, _ title: String, half: Bool = false) -> String {
            "<rect class=\"\(cls)\" x=\"\(fmt(x(first)))\" y=\"\(fmt(y))\" width=\"\(fmt(w(first, last)))\" height=\"\(half ? laneHeight / 2 : laneHeight)\" fill=\"\(color)\"><title>\(escape(title))</title></rect>\n"
        }
        return svg + "</svg>\n"
    }

    private static func span(_ counts: PartitionSideCounts) -> String {
        guard let low = counts.minOffset, let high = counts.maxOffset else { return "-" }
        return "\(low)..\(high)"
    }

    static func fmt(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
