import Synchronization

/// A request to stop long-running work (a replay, a parity check), set from anywhere (the program's signal
/// wiring, another task) and checked by the work between units (records, files, row groups, messages). Once
/// set it stays set. Requests are counted, not only flagged, so a wait that began after the first request
/// (a replay's final commit) can still tell a further one that arrives while it waits.
///
/// An atomic, not a lock: a replay checks it once per record, millions of times a second.
public final class CancellationSignal: Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    /// Asks the work to stop (from any thread, any number of times).
    public func cancel() {
        count.add(1, ordering: .relaxed)
    }

    public var isCancelled: Bool { requestCount > 0 }

    /// How many times `cancel()` was called so far.
    public var requestCount: Int { count.load(ordering: .relaxed) }

    /// Throws `CancellationError` once cancelled.
    public func check() throws {
        if isCancelled { throw CancellationError() }
    }
}
