import CoreMetrics
import Prometheus

/// swift-metrics' factory onto a swift-prometheus registry that gives each counter and gauge its `# HELP` line
/// (swift-prometheus's own `PrometheusMetricsFactory` makes every metric with an empty help). Histograms,
/// timers and floating-point counters are made by `PrometheusMetricsFactory`, without help.
public struct DescribedPrometheusMetricsFactory: MetricsFactory {
    public let registry: PrometheusCollectorRegistry
    /// Help text by metric name.
    private let help: [String: String]
    private let plain: PrometheusMetricsFactory

    public init(registry: PrometheusCollectorRegistry, help: [String: String]) {
        self.registry = registry
        self.help = help
        plain = PrometheusMetricsFactory(registry: registry)
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        // The registry keeps unlabelled and labelled metrics apart and refuses to mix the two calls.
        dimensions.isEmpty ? registry.makeCounter(descriptor: descriptor(label))
                           : registry.makeCounter(descriptor: descriptor(label), labels: dimensions)
    }

    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        plain.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }

    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        guard !aggregate else { return plain.makeRecorder(label: label, dimensions: dimensions, aggregate: true) }
        return gauge(label, dimensions)
    }

    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        gauge(label, dimensions)
    }

    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        plain.makeTimer(label: label, dimensions: dimensions)
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)]) -> Prometheus.Gauge {
        dimensions.isEmpty ? registry.makeGauge(descriptor: descriptor(label))
                           : registry.makeGauge(descriptor: descriptor(label), labels: dimensions)
    }

    /// The label as the whole name (no unit appended: the labels already end in theirs) with its help.
    private func descriptor(_ label: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: label, unitName: "", helpText: help[label] ?? "")
    }

    public func destroyCounter(_ handler: any CounterHandler) { plain.destroyCounter(handler) }
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { plain.destroyFloatingPointCounter(handler) }
    public func destroyRecorder(_ handler: any RecorderHandler) { plain.destroyRecorder(handler) }
    public func destroyMeter(_ handler: any MeterHandler) { plain.destroyMeter(handler) }
    public func destroyTimer(_ handler: any TimerHandler) { plain.destroyTimer(handler) }
}
