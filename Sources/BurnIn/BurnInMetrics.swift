import CoreMetrics

/// The burn-in's live figures as swift-metrics gauges and counters, made from the factory the caller gives
/// (the program's is swift-prometheus's, served at `/metrics`): no global metrics system is touched.
public final class BurnInMetrics {
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

    /// The `# HELP` text of each metric, for a factory that writes it (MetricsEndpoint's
    /// `DescribedPrometheusMetricsFactory`).
    public static let help: [String: String] = [
        "k2_burnin_rate_messages_per_second": "Messages Kafka acknowledged in the last second (K2's topics).",
        "k2_burnin_messages_produced": "Messages produced since the burn-in started.",
        "k2_burnin_resident_memory_bytes": "Resident memory of the burn-in process (all its parts).",
        "k2_burnin_cpu_cores": "CPU of the burn-in process in the last second, in cores.",
        "k2_burnin_verifies_total": "Parity checks of a table against the topic, finished.",
        "k2_burnin_verify_failures_total": "Parity checks that found the table and the topic different, or could not run.",
        "k2_burnin_table_rows": "Rows of the table (total-records of its current snapshot).",
        "k2_burnin_table_lag_messages": "Messages of the topic since the start that the table has not gained.",
        "k2_burnin_latency_p50_milliseconds": "Median of Kafka timestamp to ingestion_timestamp over the rows seen.",
        "k2_burnin_latency_p99_milliseconds": "99th percentile of Kafka timestamp to ingestion_timestamp over the rows seen.",
        "k2_burnin_latency_max_milliseconds": "Largest Kafka timestamp to ingestion_timestamp over the rows seen.",
    ]

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
