import Foundation

/// A request to stop, set from anywhere (a signal handler's dispatch source, another task) and checked by
/// long-running work between units of work (files, row groups, messages). Once set it stays set.
public final class CancellationSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false

    public init() {}

    public func cancel() {
        lock.lock()
        cancelled = true
        lock.unlock()
    }

    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }

    /// Throws `CancellationError` once cancelled.
    public func check() throws {
        if isCancelled { throw CancellationError() }
    }
}
