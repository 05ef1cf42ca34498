import CoreMetrics

/// A capture's counters as swift-metrics counters and gauges (served by swift-prometheus at /metrics, as the
/// burn-in's are): `publish` advances each counter by what changed since the last call. Call it from one thread
/// at a time (the metrics endpoint's event loop, or under the caller's lock).
final class CaptureMetricsExport {
    private struct StreamMetrics {
        let messages, bytes, gaps, missingIds, malformed, oversized: Counter
        let lastMessageAge: Gauge
        var published = CaptureMetrics.StreamCounters()
    }

    private let factory: MetricsFactory
    private let source: String
    private var streams: [String: StreamMetrics] = [:]
    private var scalars: [String: (counter: Counter, published: Int64)] = [:]

    init(factory: MetricsFactory, source: String) {
        self.factory = factory
        self.source = source
    }

    /// Publishes `metrics`' counters; `streamNames[i]` names `metrics.streams[i]`.
    func publish(_ metrics: CaptureMetrics, streamNames: [String], nowNanos: Int64) {
        for (index, counters) in metrics.streams.enumerated() where index < streamNames.count {
            publish(stream: streamNames[index], counters, nowNanos: nowNanos)
        }
        publish("k2_capture_connects_total", metrics.connects)
        publish("k2_capture_reconnects_total", metrics.reconnects)
        publish("k2_capture_disconnects_total", metrics.disconnects)
        publish("k2_capture_stalls_total", metrics.stalls)
        publish("k2_capture_pings_total", metrics.pings)
        publish("k2_capture_subscription_replies_total", metrics.subscriptionReplies)
    }

    /// Publishes one stream's counters (a Kafka capture's partitions are its streams).
    func publish(stream name: String, _ counters: CaptureMetrics.StreamCounters, nowNanos: Int64) {
        var stream = streams[name] ?? makeStream(name)
        let was = stream.published
        stream.messages.increment(by: counters.messages - was.messages)
        stream.bytes.increment(by: counters.bytes - was.bytes)
        stream.gaps.increment(by: counters.gaps - was.gaps)
        stream.missingIds.increment(by: counters.missingIds - was.missingIds)
        stream.malformed.increment(by: counters.malformed - was.malformed)
        stream.oversized.increment(by: counters.oversized - was.oversized)
        if counters.lastReceiveNanos != 0 {
            stream.lastMessageAge.record(Double(max(0, nowNanos - counters.lastReceiveNanos)) / 1e9)
        }
        stream.published = counters
        streams[name] = stream
    }

    private func makeStream(_ name: String) -> StreamMetrics {
        let dimensions = [("source", source), ("stream", name)]
        func counter(_ label: String) -> Counter { Counter(label: label, dimensions: dimensions, factory: factory) }
        return StreamMetrics(messages: counter("k2_capture_messages_total"), bytes: counter("k2_capture_bytes_total"),
                             gaps: counter("k2_capture_gaps_total"), missingIds: counter("k2_capture_missing_ids_total"),
                             malformed: counter("k2_capture_malformed_total"), oversized: counter("k2_capture_oversized_total"),
                             lastMessageAge: Gauge(label: "k2_capture_last_message_age_seconds", dimensions: dimensions, factory: factory))
    }

    private func publish(_ label: String, _ value: Int64) {
        let entry = scalars[label] ?? (Counter(label: label, dimensions: [("source", source)], factory: factory), 0)
        entry.counter.increment(by: value - entry.published)
        scalars[label] = (entry.counter, value)
    }
}
