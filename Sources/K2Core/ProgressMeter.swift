#if canImport(Glibc)
import Glibc
#endif

/// The progress lines of long work, one implementation for every program: at most one line per interval,
/// with the amount done, the total when known ("~": an upper bound known before reading, so the last line
/// may stop short of 100%), the rate since the last line and the ETA at the average rate so far.
///
/// Engines count; the program owns a meter and prints its lines (on stderr, unless --quiet), so library
/// code prints nothing and reads no clock but this one.
public final class ProgressMeter {
    /// What is counted, plural ("records", "rows").
    public let unit: String
    /// The amount in all, when known.
    public var total: Int64?
    private let intervalNanos: Int64
    private let start: Int64
    private var lastLine: Int64
    private var lastCounter: Int64 = 0

    /// The interval between lines when the program is not told otherwise.
    public static let defaultIntervalSeconds = 1.0

    public init(unit: String, total: Int64? = nil, intervalSeconds: Double = ProgressMeter.defaultIntervalSeconds) {
        self.unit = unit
        self.total = total
        self.intervalNanos = Int64(max(0, intervalSeconds) * 1e9)
        self.start = Self.monotonicNanos()
        self.lastLine = start
    }

    /// Figures for one progress line.
    public struct Sample: Sendable {
        public let unit: String
        public let done: Int64
        public let total: Int64?
        /// Per second since the previous line, of the counter the sample was taken with.
        public let rate: Double
        public let etaSeconds: Int64?

        /// "rows 1200/~5000 (24%), remaining ~3800, ETA 11s" (or "rows 1200" without a total).
        public var amountText: String {
            var text = "\(unit) \(done)"
            if let total {
                let remaining = max(0, total - done)
                text += "/~\(total) (\(total > 0 ? min(100, done * 100 / total) : 100)%), remaining ~\(remaining), ETA \(etaSeconds ?? 0)s"
            }
            return text
        }

        /// `amountText` and the rate: "rows 1200/~5000 (24%), remaining ~3800, ETA 11s, 350 rows/s".
        public var text: String { amountText + ", \(Int64(rate)) \(unit)/s" }
    }

    public var elapsedSeconds: Double { Double(Self.monotonicNanos() - start) / 1e9 }

    /// A sample when the interval has passed since the last one (or the start), else nil. `counter` is what
    /// the rate measures (default `done`; k2-replay measures messages while it counts records).
    public func sample(done: Int64, counter: Int64? = nil) -> Sample? {
        let now = Self.monotonicNanos()
        guard now - lastLine >= intervalNanos else { return nil }
        let counted = counter ?? done
        let rate = Double(counted - lastCounter) / max(Double(now - lastLine) / 1e9, 1e-9)
        lastLine = now
        lastCounter = counted
        var eta: Int64?
        if let total {
            let average = Double(done) / max(Double(now - start) / 1e9, 0.001)
            eta = average > 0 ? Int64(Double(max(0, total - done)) / average) : 0
        }
        return Sample(unit: unit, done: done, total: total, rate: rate, etaSeconds: eta)
    }

    /// The standard line (`Sample.text`) when one is due.
    public func line(done: Int64) -> String? { sample(done: done)?.text }

    public static func monotonicNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}
