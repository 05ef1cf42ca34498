import NIOCore

/// Make-before-break bookkeeping while a replacement connection runs beside the old one. The old connection
/// is closed only once the two are seen to overlap on every stream the old one carries: for each stream, one
/// of them delivers a data frame byte-identical to one the other delivered on that stream. Up to that frame
/// the old connection delivered the stream, from it on the new one does, so closing the old one then loses
/// nothing even when one of the two lags the other; the frames both delivered are recorded twice (the overlap
/// that `k2-compact` removes).
///
/// The proof is per stream because one connection carries several streams (Binance `a@trade/b@trade`,
/// Kraken pairs) whose order differs between connections and whose subscriptions start at different moments
/// on the new one: a common BTCUSDT frame says nothing about where ETHUSDT stands. A stream the old connection
/// carries that stays silent leaves the handover unproven; the caller's timeout then ends it.
///
/// Only the frames around the switch are compared or copied: per stream, the old connection's latest data
/// frame (a reference to the receive buffer, no copy) until the new one delivers, then one copy of each side's frame.
struct Handover {
    /// Per stream (the recorder's stream index): the overlap evidence so far.
    private var streams: [StreamOverlap] = []
    /// Streams the old connection carries whose overlap is not proven yet.
    private var unproven = 0
    /// Streams whose overlap is proven.
    private var proven = 0
    /// When the new connection delivered its first data frame (0: not yet).
    private(set) var startedNanos: Int64 = 0

    /// `oldStreams`: the streams (by index) the old connection has delivered data on; each must be proven.
    init(oldStreams: [Bool] = []) {
        for (index, carried) in oldStreams.enumerated() where carried { require(index) }
    }

    /// True once every stream the old connection carries has a proven overlap.
    var isComplete: Bool { proven > 0 && unproven == 0 }

    /// A data frame from the old connection on `stream`; true when the handover is complete.
    mutating func old(delivered message: ByteBuffer, stream: Int) -> Bool {
        require(stream)
        if streams[stream].old(delivered: message) { prove(stream) }
        return isComplete
    }

    /// A data frame from the new connection on `stream`; true when the handover is complete.
    mutating func new(delivered message: ByteBuffer, stream: Int, nowNanos: Int64) -> Bool {
        if startedNanos == 0 { startedNanos = nowNanos }
        grow(to: stream)
        if streams[stream].new(delivered: message) { prove(stream) }
        return isComplete
    }

    private mutating func grow(to stream: Int) {
        while streams.count <= stream { streams.append(StreamOverlap()) }
    }

    private mutating func require(_ stream: Int) {
        grow(to: stream)
        guard !streams[stream].required else { return }
        streams[stream].required = true
        if !streams[stream].proven { unproven += 1 }
    }

    private mutating func prove(_ stream: Int) {
        guard !streams[stream].proven else { return }
        streams[stream].proven = true
        proven += 1
        if streams[stream].required { unproven -= 1 }
    }
}

/// The overlap evidence of one stream.
private struct StreamOverlap {
    var required = false
    var proven = false
    /// The old connection's latest data frame, while the new one has delivered none yet.
    private var oldLatest: ByteBuffer?
    /// The new connection's first data frame: the old one delivering it proves the overlap (old lagging).
    private var newFirst: [UInt8]?
    /// The old connection's latest data frame when the new one delivered its first: the new one delivering it
    /// proves the overlap (new lagging).
    private var oldTarget: [UInt8]?

    mutating func old(delivered message: ByteBuffer) -> Bool {
        guard let newFirst else {
            oldLatest = message
            return false
        }
        return StreamOverlap.same(message, newFirst)
    }

    mutating func new(delivered message: ByteBuffer) -> Bool {
        guard newFirst != nil else {
            let first = Array(message.readableBytesView)
            newFirst = first
            oldTarget = oldLatest.map { Array($0.readableBytesView) }
            oldLatest = nil
            return oldTarget == first
        }
        guard let oldTarget else { return false }
        return StreamOverlap.same(message, oldTarget)
    }

    private static func same(_ message: ByteBuffer, _ bytes: [UInt8]) -> Bool {
        guard message.readableBytes == bytes.count else { return false }
        return message.withUnsafeReadableBytes { received in
            bytes.withUnsafeBytes { kept in received.elementsEqual(kept) }
        }
    }
}
