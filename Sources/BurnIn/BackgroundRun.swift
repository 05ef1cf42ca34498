import CK2Native
import Foundation
import K2Core
import Replay

/// One replay engine run on its own named thread (the burn-in's replay, or a table's follow backfill), with
/// its own stop signal, so that the burn-in ends each part when it chooses.
final class BackgroundRun: @unchecked Sendable {
    let name: String
    let stop = CancellationSignal()
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var outcome: Result<ReplayReport, Error>?

    /// `threadName`: at most 15 bytes (Linux keeps no more), `burnin:` and the part.
    init(name: String, threadName: String, configuration: ReplayConfiguration, diagnostics: @escaping ReplayDiagnostics) {
        self.name = name
        let thread = Thread { [self] in
            // Foundation's Thread.name does not reach the kernel's name on Linux, which /proc/self/task shows
            // and ProcessUsage tells the parts apart by.
            _ = k2_set_thread_name(String(threadName.utf8.prefix(15))!)
            let result = Result { try ReplayEngine(configuration: configuration, stop: stop, diagnostics: diagnostics).run() }
            lock.withLock { outcome = result }
            done.signal()
        }
        thread.name = threadName
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// The outcome once the run ended; nil while it runs.
    var result: Result<ReplayReport, Error>? { lock.withLock { outcome } }

    var isRunning: Bool { result == nil }

    /// Waits for the run to end and returns how it ended.
    func wait() -> Result<ReplayReport, Error> {
        done.wait()
        done.signal()
        return result!
    }
}
