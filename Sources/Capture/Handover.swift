import NIOCore

/// Make-before-break bookkeeping while a replacement connection runs beside the old one: the old connection
/// is closed only once the two are seen to overlap, i.e. one of them delivers a data frame byte-identical to
/// one the other delivered. Up to that frame the old connection delivered everything, from it on the new one
/// does, so closing the old one then loses nothing even when one of the two lags the other; the frames both
/// delivered are recorded twice (the overlap that `k2-compact` removes).
///
/// Only the frames around the switch are compared or copied: the old connection's latest data frame (a
/// reference to the receive buffer, no copy) until the new one delivers, then one copy of each side's frame.
struct Handover {
    /// The old connection's latest data frame, while the new one has delivered none yet.
    private var oldLatest: ByteBuffer?
    /// The new connection's first data frame: the old one delivering it proves the overlap (old lagging).
    private var newFirst: [UInt8]?
    /// The old connection's latest data frame when the new one delivered its first: the new one delivering it
    /// proves the overlap (new lagging).
    private var oldTarget: [UInt8]?
    /// When the new connection delivered its first data frame (0: not yet).
    private(set) var startedNanos: Int64 = 0

    /// A data frame from the old connection; true when it proves the overlap.
    mutating func old(delivered message: ByteBuffer) -> Bool {
        guard let newFirst else {
            oldLatest = message
            return false
        }
        return Handover.same(message, newFirst)
    }

    /// A data frame from the new connection; true when it proves the overlap.
    mutating func new(delivered message: ByteBuffer, nowNanos: Int64) -> Bool {
        guard newFirst != nil else {
            let first = Array(message.readableBytesView)
            newFirst = first
            oldTarget = oldLatest.map { Array($0.readableBytesView) }
            oldLatest = nil
            startedNanos = nowNanos
            return oldTarget == first
        }
        guard let oldTarget else { return false }
        return Handover.same(message, oldTarget)
    }

    private static func same(_ message: ByteBuffer, _ bytes: [UInt8]) -> Bool {
        guard message.readableBytes == bytes.count else { return false }
        return message.withUnsafeReadableBytes { received in
            bytes.withUnsafeBytes { kept in received.elementsEqual(kept) }
        }
    }
}
