import Glibc

/// SIGINT/SIGTERM set a flag the loops check: reading stops, queued messages are flushed, exit 130.
/// The flag counts the signals, so a wait can tell one that arrived while it waited (`runBlocking`).
enum Signals {
    nonisolated(unsafe) static var stopRequested: sig_atomic_t = 0

    static func install() {
        signal(SIGINT) { _ in Signals.stopRequested &+= 1 }
        signal(SIGTERM) { _ in Signals.stopRequested &+= 1 }
    }

    static var shouldStop: Bool { stopRequested != 0 }
}
