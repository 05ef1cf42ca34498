import K2Core
import Foundation

/// Carries a result from the concurrency pool back to the waiting thread.
private final class BlockingResult<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

/// Runs async library code (the Iceberg catalog and FileIO) from the synchronous replay loop: the loop
/// owns one thread and waits; the work runs on the concurrency pool. Used per commit or file, never per row.
///
/// A stop request (SIGINT/SIGTERM) that arrives while it waits cancels the work (a catalog or S3 call waiting on a silent
/// server answers at once) and, if it does not end within a second, leaves it: `Interrupted` is thrown
/// either way, and the run exits 130. Work begun after a stop was requested (the final commit of what was
/// read) gets `afterStopGrace` before it is cancelled the same way. A commit cut off like this is in the
/// state a `kill -9` leaves, which a rerun resolves.
public func runBlocking<T>(stop: CancellationSignal, _ body: @escaping () async throws -> T) throws -> T {
    let box = BlockingResult<T>()
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) let work = body
    let task = Task.detached {
        do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
        done.signal()
    }
    let signalsAtStart = stop.requestCount
    let giveUpAt = DispatchTime.now() + afterStopGrace
    var cancelled = false
    while done.wait(timeout: .now() + .milliseconds(100)) == .timedOut {
        let newSignal = stop.requestCount != signalsAtStart
        guard newSignal || (signalsAtStart != 0 && DispatchTime.now() >= giveUpAt) else { continue }
        task.cancel()
        cancelled = true
        if done.wait(timeout: .now() + .seconds(1)) == .timedOut { throw Interrupted() }
        break
    }
    if cancelled, case .failure? = box.result { throw Interrupted() }
    return try box.result!.get()
}

/// How long work begun after SIGINT/SIGTERM (the final commit) may take before it is cancelled.
let afterStopGrace: DispatchTimeInterval = .seconds(10)

/// A wait for the catalog or storage that SIGINT/SIGTERM ended.
public struct Interrupted: Error, CustomStringConvertible {
    public var description: String { "interrupted while waiting for the catalog or storage (rerun to resume)" }
}
