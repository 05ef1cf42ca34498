import SegmentLog

/// The check report with its verdict spelled out for scripts.
struct CheckOutput: Encodable {
    var report: CheckReport
    func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)
        var c = encoder.container(keyedBy: Key.self)
        try c.encode(report.ok, forKey: .ok)
    }
    enum Key: String, CodingKey { case ok }
}
