import K2Core

/// k2-replay's progress line about once a second (K2Core's `ProgressMeter`, shared with k2-compact and
/// k2-verify): records done / about how many in all, ETA, messages and messages/s. The total is an upper
/// bound known before reading (from a log: the records of the blocks the read will visit, which a selection
/// may cut; from Kafka: the offset ranges, which --until may cut), so it is shown as "~N" and the last line
/// may stop short of 100%.
final class ProgressReporter {
    /// Records in all, when known (set once reading is planned).
    var total: Int? {
        get { meter.total.map { Int($0) } }
        set { meter.total = newValue.map { Int64($0) } }
    }
    private let enabled: Bool
    private let diagnostics: ReplayDiagnostics
    private let meter: ProgressMeter

    /// `enabled`: whether lines are made at all (a dry run or JSON lines have none); `intervalSeconds`
    /// between lines (`ReplayConfiguration.progressIntervalSeconds`).
    init(total: Int?, enabled: Bool, intervalSeconds: Double = ProgressMeter.defaultIntervalSeconds,
         diagnostics: @escaping ReplayDiagnostics) {
        self.meter = ProgressMeter(unit: "records", total: total.map { Int64($0) }, intervalSeconds: intervalSeconds)
        self.enabled = enabled
        self.diagnostics = diagnostics
    }

    var elapsedSeconds: Double { meter.elapsedSeconds }

    func tick(records: Int, messages: Int, note: @autoclosure () -> String) {
        guard enabled, let sample = meter.sample(done: Int64(records), counter: Int64(messages)) else { return }
        var line = sample.amountText + ", messages \(messages), \(Int(sample.rate)) msg/s"
        let extra = note()
        if !extra.isEmpty { line += ", " + extra }
        diagnostics(ReplayNote(.progress, line))
    }
}
