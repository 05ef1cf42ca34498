/// How pass `pass` of a looped replay re-stamps the log's records: Binance trade ids shifted by
/// `pass × tradeIdStride`, and each message's time (its Kafka timestamp and the value's `ingestion_timestamp`)
/// moved to the pass's own timeline starting at `anchorMs`, the wall clock when the pass first started (kept in
/// the pass ledger, so a resumed pass stamps its messages exactly as before and finds them in Kafka).
/// With `--rate R` the n-th message of the pass is stamped `anchor + n/R`, when the pacer is due to send it; with
/// `--speed X` the recorded spacing divided by X; unpaced the recorded spacing.
struct PassStamp: Equatable, Codable {
    /// Room for a billion trade ids per pass per symbol between two passes' ids.
    static let tradeIdStride: Int64 = 1_000_000_000_000

    var pass: Int
    var anchorMs: Int64

    var tradeIdOffset: Int64 { Int64(pass) &* PassStamp.tradeIdStride }

    enum CodingKeys: String, CodingKey { case pass, anchorMs = "anchor_ms" }
}

/// The running stamp of one pass's messages, on the reading side (deterministic: it depends only on the log,
/// read from its start on every run, and the pacing).
struct PassClock {
    let stamp: PassStamp
    let pacing: ReplayPacing
    private var firstReceiveNanos: Int64?
    private var messages: Int64 = 0

    init(stamp: PassStamp, pacing: ReplayPacing) {
        self.stamp = stamp
        self.pacing = pacing
    }

    /// The re-stamped time in nanoseconds of the next record (received at `receiveTimeNanos`); its messages
    /// are counted afterwards by `count`.
    mutating func next(receiveTimeNanos: Int64) -> Int64 {
        let anchor = stamp.anchorMs &* 1_000_000
        let first = firstReceiveNanos ?? receiveTimeNanos
        if firstReceiveNanos == nil { firstReceiveNanos = receiveTimeNanos }
        switch pacing {
        case .rate(let perSecond, _):
            return anchor &+ Pacer.nanos(Double(messages) * 1e9 / perSecond)
        case .speed(let factor):
            return anchor &+ Pacer.nanos(Double(receiveTimeNanos &- first) / factor)
        case .unpaced:
            return anchor &+ (receiveTimeNanos &- first)
        }
    }

    /// The record just stamped made `made` messages.
    mutating func count(_ made: Int) { messages += Int64(made) }
}
