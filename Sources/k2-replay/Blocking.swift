import Foundation

/// Carries a result from the concurrency pool back to the waiting thread.
private final class BlockingResult<T>: @unchecked Sendable {
    var result: Result<T, Error>?
}

/// Runs async library code (the Iceberg catalog and FileIO) from the synchronous replay loop: the loop
/// owns one thread and waits; the work runs on the concurrency pool. Used per commit or file, never per row.
func runBlocking<T>(_ body: @escaping () async throws -> T) throws -> T {
    let box = BlockingResult<T>()
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) let work = body
    Task.detached {
        do { box.result = .success(try await work()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}
