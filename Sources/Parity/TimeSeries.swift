/// Rows per side in fixed-width buckets of Kafka timestamp over the whole report: the chart's data, at a
/// width that suits the span (a second for a few minutes of data, up to an hour for days), so data spanning
/// less than an hour still draws as a curve.
public struct TimeSeries: Codable, Sendable {
    /// The bucket width in seconds: 1, 10, 60, 300, 900 or 3600.
    public var bucketSeconds: Int64
    /// Per side, rows per bucket keyed by the bucket's start (RFC 3339 UTC); buckets without rows are left out.
    public var counts: SideValues<[String: Int64]>

    enum CodingKeys: String, CodingKey {
        case counts
        case bucketSeconds = "bucket_seconds"
    }
}
