import Parity
import Replay

/// What a repair does: which side of which report, and the replay that writes the missing offsets (its origin
/// the Kafka topic the report checked or a log captured from it, its target the table to repair; its offsets are
/// set by the repair).
public struct TableRepairConfiguration {
    /// A `k2-verify --json` report.
    public var report: ParityReport
    /// The side of the report to repair; nil: the one Iceberg side with something to repair.
    public var side: RepairPlan.Side?
    /// `--from kafka://...` (or a capture log) into `--to iceberg --table ...`, with the catalog, style and commit settings.
    public var replay: ReplayConfiguration

    public init(report: ParityReport, side: RepairPlan.Side? = nil, replay: ReplayConfiguration) {
        self.report = report
        self.side = side
        self.replay = replay
    }
}
