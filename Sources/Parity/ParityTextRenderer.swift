import K2Core
/// The report as a table for a terminal: one line per partition (mismatches first), the defects of each
/// mismatched partition under it, then the health of each table and a summary line.
public enum ParityTextRenderer {
    public static func render(_ report: ParityReport, rangeLimit: Int = 8) -> String {
        var out = ""
        let hasTruth = report.sides.truth != nil
        out += "left:  \(describe(report.sides.left))\n"
        out += "right: \(describe(report.sides.right))\n"
        if let truth = report.sides.truth { out += "truth: \(describe(truth))\n" }
        if report.scope.since != nil || report.scope.until != nil || report.scope.partitions != nil {
            var parts: [String] = []
            if let since = report.scope.since { parts.append("since \(since)") }
            if let until = report.scope.until { parts.append("until \(until)") }
            if let partitions = report.scope.partitions { parts.append("partitions \(partitions.map(String.init).joined(separator: ","))") }
            out += "scope: \(parts.joined(separator: ", "))\n"
        }
        out += "\n"

        var header = ["STATUS", "PARTITION", "LEFT ROWS", "RIGHT ROWS"]
        if hasTruth { header.append("TRUTH ROWS") }
        header += ["LEFT OFFSETS", "RIGHT OFFSETS", "MISS L", "MISS R", "DUP L", "DUP R"]
        if report.payloadCompared { header.append("PAYLOAD") }
        var rows: [[String]] = [header]
        for p in report.partitions {
            var row = [p.parity ? "ok" : "MISMATCH", "\(p.topic)[\(p.partition)]", "\(p.left.rows)", "\(p.right.rows)"]
            if let truth = p.truth { row.append("\(truth.rows)") }
            row += [span(p.left), span(p.right),
                    "\(OffsetRanges.offsetCount(p.allMissingInLeft))",
                    "\(OffsetRanges.offsetCount(p.allMissingInRight))",
                    "\(p.duplicatesLeft.reduce(0) { $0 + $1.extraRows })",
                    "\(p.duplicatesRight.reduce(0) { $0 + $1.extraRows })"]
            if report.payloadCompared {
                row.append("\(OffsetRanges.offsetCount((p.payloadMismatches ?? []) + (p.payloadMismatchesLeftVsTruth ?? []) + (p.payloadMismatchesRightVsTruth ?? [])))")
            }
            rows.append(row)
        }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        for (index, row) in rows.enumerated() {
            let cells = row.enumerated().map { i, cell in
                // Text columns left-aligned, numbers right-aligned.
                i < 2 || i >= header.count ? pad(cell, widths[i], left: true) : pad(cell, widths[i], left: false)
            }
            out += cells.joined(separator: "  ").trimmingTrailingSpaces() + "\n"
            if index > 0 { out += details(report.partitions[index - 1], rangeLimit: rangeLimit) }
        }

        for (side, health) in [("left", report.health.left), ("right", report.health.right)] {
            guard let health else { continue }
            var line = "\n\(side) table \(health.table): snapshot \(health.snapshotId.map(String.init) ?? "none"), \(health.snapshots) snapshot(s), \(health.dataFiles) data file(s)"
            if let total = health.summaryTotalRecords { line += ", total-records \(total)" }
            if let read = health.rowsRead { line += ", rows read \(read)" }
            if health.deleteFiles > 0 {
                line += ", \(health.deleteFiles) delete file(s)"
                if let deleted = health.rowsDeleted { line += " removing \(deleted) row(s)" }
            }
            out += line + "\n"
            for marker in health.commitMarkers { out += "  \(marker.key) = \(marker.value) (snapshot \(marker.snapshotId))\n" }
            for problem in health.problems { out += "  PROBLEM: \(problem)\n" }
        }

        let s = report.summary
        var summary = "\n\(report.parity ? "PARITY" : "MISMATCH"): \(s.partitions) partition(s), \(s.mismatchedPartitions) mismatched; rows left \(s.rows.left ?? 0), right \(s.rows.right ?? 0)"
        if let truth = s.rows.truth { summary += ", truth \(truth)" }
        summary += "; missing in left \(s.missingInLeftOffsets), in right \(s.missingInRightOffsets) offset(s); duplicate rows left \(s.duplicateRowsLeft), right \(s.duplicateRowsRight)"
        if report.payloadCompared { summary += "; payload mismatches \(s.payloadMismatchOffsets)" }
        if s.retentionDroppedOffsets > 0 { summary += "; \(s.retentionDroppedOffsets) offset(s) past retention" }
        out += summary + "\n"
        return out
    }

    private static func details(_ p: PartitionReport, rangeLimit: Int) -> String {
        var out = ""
        func ranges(_ label: String, _ list: [OffsetRange]?) {
            guard let list, !list.isEmpty else { return }
            let shown = list.prefix(rangeLimit).map { "[\($0.first), \($0.last)]" }.joined(separator: " ")
            out += "    \(label): \(shown)\(list.count > rangeLimit ? " ... (\(list.count) ranges)" : "")\n"
        }
        func duplicates(_ label: String, _ list: [DuplicateRange]?) {
            guard let list, !list.isEmpty else { return }
            let shown = list.prefix(rangeLimit).map { "[\($0.first), \($0.last)]x\($0.count)" }.joined(separator: " ")
            out += "    \(label): \(shown)\(list.count > rangeLimit ? " ... (\(list.count) ranges)" : "")\n"
        }
        ranges("missing in left", p.missingInLeft)
        ranges("missing in right", p.missingInRight)
        ranges("missing in left vs truth", p.missingInLeftVsTruth)
        ranges("missing in right vs truth", p.missingInRightVsTruth)
        ranges("missing in truth", p.missingInTruth)
        // When each gap happened: the rows the lacking side holds on either side of it.
        for gap in p.gapEdges.prefix(rangeLimit) {
            let before = gap.beforeOffset.map { "after \($0) at \(gap.beforeTimestamp ?? "?")" } ?? "from its start"
            let after = gap.afterOffset.map { "until \($0) at \(gap.afterTimestamp ?? "?")" } ?? "to its end"
            out += "    gap in \(gap.side) [\(gap.first), \(gap.last)]: \(before), \(after)\n"
        }
        if p.gapEdges.count > rangeLimit { out += "    ... (\(p.gapEdges.count) gaps)\n" }
        duplicates("duplicates left", p.duplicatesLeft)
        duplicates("duplicates right", p.duplicatesRight)
        duplicates("duplicates truth", p.duplicatesTruth)
        ranges("payload differs", p.payloadMismatches)
        ranges("payload differs left/truth", p.payloadMismatchesLeftVsTruth)
        ranges("payload differs right/truth", p.payloadMismatchesRightVsTruth)
        for note in p.retention {
            out += "    retention (\(note.side) starts at \(note.floor)): \(note.droppedOffsets.map { "[\($0.first), \($0.last)]" }.joined(separator: " ")) past retention, not missing\n"
        }
        return out
    }

    private static func describe(_ side: SideDescription) -> String {
        var text = "\(side.kind) \(side.name)"
        if let snapshot = side.snapshotId { text += " @ snapshot \(snapshot)" }
        return text
    }

    private static func span(_ counts: PartitionSideCounts) -> String {
        guard let low = counts.minOffset, let high = counts.maxOffset else { return "-" }
        return "\(low)..\(high)"
    }

    private static func pad(_ text: String, _ width: Int, left: Bool) -> String {
        let fill = String(repeating: " ", count: max(0, width - text.count))
        return left ? text + fill : fill + text
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}
