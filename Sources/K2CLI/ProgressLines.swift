import Foundation
import K2Core

/// A program's progress lines on stderr ("k2-compact: progress: records 120000/~500000 (24%), ..."), made by
/// K2Core's `ProgressMeter` from what the engine reports; none with --quiet. The interval between lines is
/// `ProgressMeter.defaultIntervalSeconds`, or `K2_PROGRESS_INTERVAL` seconds (0: a line at every report,
/// which is how the tests see lines from a run that takes less than a second).
public final class ProgressLines: @unchecked Sendable {
    /// The environment variable that sets the interval between lines, in seconds.
    public static let intervalVariable = "K2_PROGRESS_INTERVAL"

    private let program: String
    private let quiet: Bool
    private let meter: ProgressMeter
    private let lock = NSLock()

    public init(program: String, unit: String, quiet: Bool, total: Int64? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.program = program
        self.quiet = quiet
        self.meter = ProgressMeter(unit: unit, total: total, intervalSeconds: Self.intervalSeconds(environment: environment))
    }

    /// `K2_PROGRESS_INTERVAL` when it is a number of seconds, else the default.
    public static func intervalSeconds(environment: [String: String] = ProcessInfo.processInfo.environment) -> Double {
        environment[intervalVariable].flatMap(Double.init).map { max(0, $0) } ?? ProgressMeter.defaultIntervalSeconds
    }

    /// Prints a line when one is due; `total` replaces the amount in all when given.
    public func update(done: Int64, total: Int64? = nil) {
        guard !quiet else { return }
        lock.lock()
        defer { lock.unlock() }
        if let total { meter.total = total }
        if let line = meter.line(done: done) { StandardError.print("\(program): progress: \(line)") }
    }
}
