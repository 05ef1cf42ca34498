import Dispatch
import Glibc
import K2Core

/// SIGINT and SIGTERM as cancellation requests, for as long as the object lives: every program wires its
/// engine's `CancellationSignal` here, so all four stop the same way (work stops at its next unit, what was
/// done is kept, exit 130).
///
/// The signals are blocked in the calling thread and delivered through dispatch: on Linux dispatch reads
/// them through a signalfd, which sees only blocked signals (an ignored one is discarded). Create it early,
/// before the program starts other threads (they inherit the mask).
public final class InterruptSignals {
    private let sources: [DispatchSourceSignal]

    /// - Parameter exitAfter: a program whose work leaves nothing half-done (a read-only check) exits 130
    ///   this many seconds after the first signal if the work has not stopped, and at once on a second one.
    public init(cancelling cancellation: CancellationSignal, exitAfter: Double? = nil) {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGINT)
        sigaddset(&blocked, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &blocked, nil)
        sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if let exitAfter {
                    if cancellation.isCancelled { _exit(K2ExitCode.interrupted.rawValue) }
                    DispatchQueue.global().asyncAfter(deadline: .now() + exitAfter) { _exit(K2ExitCode.interrupted.rawValue) }
                }
                cancellation.cancel()
            }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}
