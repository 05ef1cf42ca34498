import Dispatch
import Glibc
import Replay

/// Wires SIGINT and SIGTERM to a `StopSignal` for as long as it lives: the signals are taken off their
/// default action and delivered through dispatch, outside the signal handler's restrictions.
final class StopOnSignals {
    private let sources: [DispatchSourceSignal]

    init(_ stop: StopSignal) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.request() }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}
