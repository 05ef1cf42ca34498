/// A progress line about once a second: records done / about how many in all, messages/s, ETA.
/// The total is an upper bound known before reading (from a log: the records of the blocks the read will
/// visit, which a selection may cut; from Kafka: the offset ranges, which --until may cut), so it is
/// shown as "~N" and the last line may stop short of 100%.
final class ProgressReporter {
    /// Records in all, when known (set once reading is planned).
    var total: Int?
    private let enabled: Bool
    private let diagnostics: ReplayDiagnostics
    private let start = Pacer.monotonicNanos()
    private var lastReport = Pacer.monotonicNanos()
    private var lastMessages = 0

    /// `enabled`: whether lines are made at all (a dry run or JSON lines have none).
    init(total: Int?, enabled: Bool, diagnostics: @escaping ReplayDiagnostics) {
        self.total = total
        self.enabled = enabled
        self.diagnostics = diagnostics
    }

    var elapsedSeconds: Double { Double(Pacer.monotonicNanos() - start) / 1e9 }

    func tick(records: Int, messages: Int, note: @autoclosure () -> String) {
        guard enabled else { return }
        let now = Pacer.monotonicNanos()
        guard now - lastReport >= 1_000_000_000 else { return }
        let rate = Double(messages - lastMessages) / (Double(now - lastReport) / 1e9)
        lastReport = now
        lastMessages = messages
        var line = "records \(records)"
        if let total {
            let remaining = max(0, total - records)
            let recordRate = Double(records) / max(elapsedSeconds, 0.001)
            let eta = recordRate > 0 ? Int(Double(remaining) / recordRate) : 0
            line += "/~\(total) (\(total > 0 ? records * 100 / total : 100)%), remaining ~\(remaining), ETA \(eta)s"
        }
        line += ", messages \(messages), \(Int(rate)) msg/s"
        let extra = note()
        if !extra.isEmpty { line += ", " + extra }
        diagnostics(ReplayNote(.progress, line))
    }
}
