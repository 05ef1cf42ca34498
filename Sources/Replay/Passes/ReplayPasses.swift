/// `--passes N` / `--duration D`: a log replayed into Kafka again and again, each pass re-stamped
/// (`PassStamp`) so that Kafka and the Bronze tables keep growing with distinct trades and fresh timestamps.
/// Either bound may be given; the loop ends at the first one reached (neither: one pass, as without).
public struct ReplayPasses: Equatable, Sendable {
    /// Passes in all, counted across reruns (the pass ledger holds the pass reached); nil: no bound.
    public var count: Int?
    /// Seconds of this run after which no new pass starts (the pass under way is cut short); nil: no bound.
    public var durationSeconds: Double?

    public init(count: Int? = nil, durationSeconds: Double? = nil) {
        self.count = count
        self.durationSeconds = durationSeconds
    }
}
