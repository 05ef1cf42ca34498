import CoreMetrics

/// The burn-in's live figures as swift-metrics gauges and counters, made from the factory the caller gives
/// (the program's is swift-prometheus's, served at `/metrics`): no global metrics system is touched.
final class BurnInMetrics {
    let rate: Gauge
    let produced: Gauge
    let residentBytes: Gauge
    let cpuCores: Gauge
    let verifies: Counter
    let verifyFailures: Counter
    let tableRows: [Gauge]
    let tableLag: [Gauge]
    let latencyP50: [Gauge]
    let latencyP99: [Gauge]
    let latencyMax: [Gauge]

    init(factory: MetricsFactory, tables: [BurnInTable]) {
        rate = Gauge(label: "k2_burnin_rate_messages_per_second", factory: factory)
        produced = Gauge(label: "k2_burnin_messages_produced", factory: factory)
        residentBytes = Gauge(label: "k2_burnin_resident_memory_bytes", factory: factory)
        cpuCores = Gauge(label: "k2_burnin_cpu_cores", factory: factory)
        verifies = Counter(label: "k2_burnin_verifies_total", factory: factory)
        verifyFailures = Counter(label: "k2_burnin_verify_failures_total", factory: factory)
        func perTable(_ label: String) -> [Gauge] {
            tables.map { Gauge(label: label, dimensions: [("table", $0.name), ("style", $0.style.rawValue)], factory: factory) }
        }
        tableRows = perTable("k2_burnin_table_rows")
        tableLag = perTable("k2_burnin_table_lag_messages")
        latencyP50 = perTable("k2_burnin_latency_p50_milliseconds")
        latencyP99 = perTable("k2_burnin_latency_p99_milliseconds")
        latencyMax = perTable("k2_burnin_latency_max_milliseconds")
    }
}
