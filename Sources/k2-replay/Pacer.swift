import Foundation

/// Paces messages: `--rate N` is a token bucket of N tokens/s holding at most `burst` tokens (so the rate
/// is steady: never more than `burst` messages above the line), `--speed X` keeps the recorded spacing
/// divided by X, neither (`--max`) does nothing.
final class Pacer {
    enum Mode: Equatable {
        case unpaced
        case rate(perSecond: Double, burst: Double)
        case speed(Double)
    }

    let mode: Mode
    private var nextSendNanos: Int64 = 0      // rate: when the next message is due (GCRA)
    private var firstRecordNanos: Int64?      // speed: the first record's receive time ...
    private var startNanos: Int64 = 0         // ... and the wall time it was sent

    init(mode: Mode) { self.mode = mode }

    static func monotonicNanos() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    /// Blocks until the next message may go; `receiveTimeNanos` is its record's capture time.
    /// `whileWaiting` runs while waiting (serving delivery reports).
    func awaitTurn(receiveTimeNanos: Int64, whileWaiting: (Int32) -> Void) {
        switch mode {
        case .unpaced:
            return
        case .rate(let perSecond, let burst):
            let interval = 1e9 / perSecond
            let now = Pacer.monotonicNanos()
            // The bucket can hold `burst` tokens: never let the schedule fall further behind than that.
            let earliest = now - Int64(interval * (burst - 1))
            if nextSendNanos < earliest { nextSendNanos = earliest }
            wait(until: nextSendNanos, whileWaiting)
            nextSendNanos += Int64(interval)
        case .speed(let factor):
            guard let first = firstRecordNanos else {
                firstRecordNanos = receiveTimeNanos
                startNanos = Pacer.monotonicNanos()
                return
            }
            let due = startNanos + Int64(Double(receiveTimeNanos - first) / factor)
            wait(until: due, whileWaiting)
        }
    }

    private func wait(until due: Int64, _ whileWaiting: (Int32) -> Void) {
        while true {
            let now = Pacer.monotonicNanos()
            let remaining = due - now
            if remaining <= 0 { return }
            if remaining > 2_000_000 {
                whileWaiting(Int32(min(remaining / 1_000_000 - 1, 100)))   // serve delivery reports while idle
            } else {
                var ts = timespec(tv_sec: 0, tv_nsec: Int(remaining))
                nanosleep(&ts, nil)
            }
        }
    }
}
