import Dispatch

/// Runs async library work to its end from a synchronous command's `run()` (ProgramMain's commands are
/// synchronous): the work runs on the concurrency pool, this thread waits for it.
public func waitForAsync<T>(_ work: @escaping () async throws -> T) throws -> T {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<T, Error>?
    Task {
        do { result = .success(try await work()) } catch { result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try result!.get()
}
