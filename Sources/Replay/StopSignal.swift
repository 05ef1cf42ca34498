import Foundation

/// Asks a running replay to stop: reading ends, what was read is flushed or committed, and the report says
/// it was interrupted (a rerun resumes). Thread-safe; the program wires it to SIGINT/SIGTERM.
///
/// Requests are counted, not just flagged, so a wait that began after a stop was requested (the final
/// commit) can still tell a further request that arrives while it waits (`runBlocking`).
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    public init() {}

    /// Asks the replay to stop (may be called from any thread, any number of times).
    public func request() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    /// Whether a stop was requested.
    public var isRequested: Bool { requests > 0 }

    /// How many stops were requested so far.
    public var requests: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
