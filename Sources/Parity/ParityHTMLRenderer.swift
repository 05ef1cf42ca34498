import K2Core
/// The report as one self-contained HTML page (inline CSS and SVG, no scripts, no external assets):
/// rows per hour of each side as a line chart, and per partition a timeline of its offsets with the
/// missing ranges, duplicates and payload mismatches of each side drawn where they fall.
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
        .ok{background:#2ca02c} .bad{background:#d62728}
        table{border-collapse:collapse;font-size:13px} td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
        td:first-child,th:first-child,td.text{text-align:left} tr.mismatch td{background:#fdecea}
        .legend span{display:inline-block;margin-right:16px;font-size:13px}
        .legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
        svg text{font-size:11px;fill:#444}
        ul.problems{font-size:13px}
        </style></head><body>
        <h1>k2-verify parity report <span class="badge \(report.parity ? "ok" : "bad")">\(report.parity ? "PARITY" : "MISMATCH")</span></h1>

        """
        html += "<table class=\"sides\"><tr><th>side</th><th>kind</th><th>name</th><th>snapshot</th><th>rows</th></tr>\n"
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

        html += "<h2>Rows per hour of Kafka timestamp</h2>\n" + hourChart(report)
        html += "<h2>Partitions</h2>\n" + partitionTable(report)
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

    // MARK: rows per hour

    static func hourChart(_ report: ParityReport) -> String {
        let series: [(String, String, [String: Int64]?)] = [("left", colors.left, report.countsByHour.left),
                                                           ("right", colors.right, report.countsByHour.right),
                                                           ("truth", colors.truth, report.countsByHour.truth)]
        var hours = Set<String>()
        for (_, _, values) in series { hours.formUnion(values?.keys ?? [:].keys) }
        let sortedHours = hours.sorted()
        let width = 900.0, height = 260.0, left = 60.0, bottom = 40.0, top = 16.0, right = 16.0
        var svg = "<svg id=\"rows-per-hour\" xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n"
        svg += "<rect x=\"0\" y=\"0\" width=\"\(Int(width))\" height=\"\(Int(height))\" fill=\"#fafafa\"/>\n"
        guard !sortedHours.isEmpty else {
            return svg + "<text x=\"20\" y=\"40\">no rows</text></svg>\n"
        }
        let maxRows = max(1, series.compactMap { $0.2?.values.max() }.max() ?? 1)
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        func x(_ index: Int) -> Double {
            sortedHours.count == 1 ? left + plotWidth / 2 : left + plotWidth * Double(index) / Double(sortedHours.count - 1)
        }
        func y(_ rows: Int64) -> Double { top + plotHeight * (1 - Double(rows) / Double(maxRows)) }
        // Axes, with the maximum and a few hour labels.
        svg += "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(left + plotWidth)\" y2=\"\(top + plotHeight)\" stroke=\"#888\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotHeight)\" stroke=\"#888\"/>\n"
        svg += "<text x=\"\(left - 6)\" y=\"\(top + 4)\" text-anchor=\"end\">\(maxRows)</text>\n"
        svg += "<text x=\"\(left - 6)\" y=\"\(top + plotHeight)\" text-anchor=\"end\">0</text>\n"
        let labelEvery = max(1, sortedHours.count / 6)
        for (index, hour) in sortedHours.enumerated() where index % labelEvery == 0 || index == sortedHours.count - 1 {
            // The first and last labels align inwards so they are not cut at the chart's edges.
            let anchor = sortedHours.count > 1 && index == 0 ? "start" : index == sortedHours.count - 1 && sortedHours.count > 1 ? "end" : "middle"
            svg += "<text x=\"\(fmt(x(index)))\" y=\"\(top + plotHeight + 16)\" text-anchor=\"\(anchor)\">\(escape(hour))</text>\n"
        }
        var legendX = left
        for (name, color, values) in series {
            guard let values else { continue }
            let points = sortedHours.enumerated().map { "\(fmt(x($0.offset))),\(fmt(y(values[$0.element] ?? 0)))" }
            svg += "<polyline class=\"series series-\(name)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"\(name == "truth" ? " stroke-dasharray=\"4 3\"" : "") points=\"\(points.joined(separator: " "))\"/>\n"
            for (index, hour) in sortedHours.enumerated() {
                svg += "<circle class=\"point-\(name)\" cx=\"\(fmt(x(index)))\" cy=\"\(fmt(y(values[hour] ?? 0)))\" r=\"2.5\" fill=\"\(color)\"><title>\(name) \(escape(hour)): \(values[hour] ?? 0) rows</title></circle>\n"
            }
            svg += "<rect x=\"\(fmt(legendX))\" y=\"\(height - 14)\" width=\"10\" height=\"10\" fill=\"\(color)\"/><text x=\"\(fmt(legendX + 14))\" y=\"\(height - 5)\">\(name)</text>\n"
            legendX += 70
        }
        return svg + "</svg>\n"
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
        svg += "<text x=\"\(fmt(labelWidth))\" y=\"\(fmt(height - 4))\">\(low)</text><text x=\"\(fmt(width - 10))\" y=\"\(fmt(height - 4))\" text-anchor=\"end\">\(high)</text>\n"
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
            for r in lane.2 { svg += rect("missing", r.first, r.last, y, colors.missing, "missing in \(lane.0): [\(r.first), \(r.last)]") }
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
