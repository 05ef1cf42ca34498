import Foundation

/// Paces messages: `--rate N` is a token bucket of N tokens/s holding at most `burst` tokens (so the rate
/// is steady: never more than `burst` messages above the line), `--speed X` keeps the recorded spacing
/// divided by X, neither (`--max`) does nothing.
final class Pacer {
    typealias Mode = ReplayPacing

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

    /// With `--rate`: the schedule starts at wall-clock time `ms` rather than at the first message, so a pass of a
    /// looped replay continues the previous pass's line, and the pause between passes (a new producer and
    /// checkpoint) is caught up, as much as `burst` allows, instead of lost from the rate.
    func startSchedule(atWallClockMs ms: Int64) {
        guard case .rate = mode else { return }
        var wall = timespec()
        clock_gettime(CLOCK_REALTIME, &wall)
        let wallNanos = Int64(wall.tv_sec) * 1_000_000_000 + Int64(wall.tv_nsec)
        nextSendNanos = Pacer.monotonicNanos() &- (wallNanos &- ms &* 1_000_000)
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
            let earliest = now &- Self.nanos(interval * (burst - 1))
            if nextSendNanos < earliest { nextSendNanos = earliest }
            wait(until: nextSendNanos, whileWaiting)
            let (next, overflow) = nextSendNanos.addingReportingOverflow(Self.nanos(interval))
            nextSendNanos = overflow ? .max : next
        case .speed(let factor):
            guard let first = firstRecordNanos else {
                firstRecordNanos = receiveTimeNanos
                startNanos = Pacer.monotonicNanos()
                return
            }
            let offset = Self.nanos(Double(receiveTimeNanos &- first) / factor)
            let (due, overflow) = startNanos.addingReportingOverflow(offset)
            wait(until: overflow ? .max : due, whileWaiting)
        }
    }

    /// A span in nanoseconds, clamped to about a century (a conversion of a larger Double would trap).
    static func nanos(_ value: Double) -> Int64 {
        guard value.isFinite else { return value < 0 ? -(1 << 62) : 1 << 62 }
        return Int64(Swift.max(-4.6e18, Swift.min(4.6e18, value)))
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

/// How fast a replay sends: as fast as possible, at a steady rate, or at a multiple of the recorded timing.
public enum ReplayPacing: Equatable, Sendable {
    case unpaced
    /// A token bucket: `perSecond` messages/s, at most `burst` above the steady line.
    case rate(perSecond: Double, burst: Double)
    /// The recorded inter-arrival timing divided by the factor (1 = real time).
    case speed(Double)
}
