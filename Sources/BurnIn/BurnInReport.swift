/// What a burn-in measured and found (`--json`, and the `report.json` beside the HTML page): one sample a
/// second, the rate of every minute, each table's latency, each parity check, and the failures that make the
/// exit code 1. Keys in snake_case.
public struct BurnInReport: Codable, Sendable {
    public var startedAt = ""
    public var seconds: Double = 0
    public var targetRate: Double = 0
    public var rateTolerance: Double = 0
    public var warmupSeconds: Double = 0
    public var topic = ""
    /// What wrote the tables: "follow backfills (in process)" or "external jobs".
    public var writers = ""
    public var messagesProduced: Int64 = 0
    public var passesDone = 0
    public var samples: [Sample] = []
    public var minutes: [Minute] = []
    public var tables: [TableSummary] = []
    public var verifies: [Verify] = []
    /// Each part's CPU seconds (threads grouped by name) over the whole run.
    public var cpuSecondsByPart: [String: Double] = [:]
    public var memory = Memory()
    /// `cat /proc/loadavg` at the start and end (the machine's load: other work slows the replay).
    public var loadAverage: [String] = []
    /// Why the burn-in failed (empty: passed).
    public var failures: [String] = []
    public var passed: Bool { failures.isEmpty }
    public var interrupted = false

    public init() {}

    /// One second of the run.
    public struct Sample: Codable, Sendable {
        /// Seconds since the start.
        public var t: Double
        /// Messages Kafka acknowledged in this second (all of the replay's topics), per second.
        public var rate: Double
        /// Messages acknowledged since the start.
        public var messages: Int64
        /// Per watched table: its rows and how many messages of the topic it lacks.
        public var rows: [Int64]
        public var lag: [Int64]
        /// Per table, the p99 end-to-end latency (ms) of the rows committed since the last latency read; nil: none.
        public var latencyP99Ms: [Double?]
        public var residentBytes: Int64
        /// Process CPU use in this second, in cores (1.0 = one core busy).
        public var cpuCores: Double

        enum CodingKeys: String, CodingKey {
            case t, rate, messages, rows, lag, latencyP99Ms = "latency_p99_ms", residentBytes = "resident_bytes", cpuCores = "cpu_cores"
        }
    }

    /// The rate held in one whole minute.
    public struct Minute: Codable, Sendable {
        public var minute: Int
        public var messages: Int64
        public var rate: Double
        /// (rate - target) / target.
        public var slip: Double
        /// In warm-up: not judged.
        public var warmup: Bool
    }

    public struct TableSummary: Codable, Sendable {
        public var name: String
        public var style: String
        public var rows: Int64
        public var finalLag: Int64
        public var maxLag: Int64
        /// End-to-end latency, produce time (the message's Kafka timestamp) to the row's ingestion_timestamp.
        public var latencyMs: Latency
        public var rowsLatencyMeasured: Int64

        enum CodingKeys: String, CodingKey {
            case name, style, rows, finalLag = "final_lag", maxLag = "max_lag", latencyMs = "latency_ms",
                 rowsLatencyMeasured = "rows_latency_measured"
        }
    }

    public struct Latency: Codable, Sendable {
        public var p50: Double = 0
        public var p99: Double = 0
        public var max: Double = 0
    }

    /// One parity check of a table against the topic, over `offsets` (per partition, the newer half of what
    /// the topic held up to what the table had committed, when the check started; nil: the whole topic).
    public struct Verify: Codable, Sendable {
        public var t: Double
        public var table: String
        public var offsets: String?
        public var parity: Bool
        public var rowsTable: Int64
        public var rowsKafka: Int64
        public var problems: [String]
        public var seconds: Double

        enum CodingKeys: String, CodingKey {
            case t, table, offsets, parity, rowsTable = "rows_table", rowsKafka = "rows_kafka", problems, seconds
        }
    }

    public struct Memory: Codable, Sendable {
        /// Resident size (bytes): the first whole minute after warm-up, the last minute (medians), the peak.
        public var afterWarmup: Int64 = 0
        public var lastMinute: Int64 = 0
        public var peak: Int64 = 0

        enum CodingKeys: String, CodingKey { case afterWarmup = "after_warmup", lastMinute = "last_minute", peak }
    }

    enum CodingKeys: String, CodingKey {
        case startedAt = "started_at", seconds, targetRate = "target_rate", rateTolerance = "rate_tolerance",
             warmupSeconds = "warmup_seconds", topic, writers, messagesProduced = "messages_produced", passesDone = "passes_done",
             samples, minutes, tables, verifies, cpuSecondsByPart = "cpu_seconds_by_part", memory, loadAverage = "load_average",
             failures, passed, interrupted
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(startedAt, forKey: .startedAt)
        try c.encode((seconds * 10).rounded() / 10, forKey: .seconds)
        try c.encode(targetRate, forKey: .targetRate)
        try c.encode(rateTolerance, forKey: .rateTolerance)
        try c.encode(warmupSeconds, forKey: .warmupSeconds)
        try c.encode(topic, forKey: .topic)
        try c.encode(writers, forKey: .writers)
        try c.encode(messagesProduced, forKey: .messagesProduced)
        try c.encode(passesDone, forKey: .passesDone)
        try c.encode(passed, forKey: .passed)
        try c.encode(interrupted, forKey: .interrupted)
        try c.encode(failures, forKey: .failures)
        try c.encode(loadAverage, forKey: .loadAverage)
        try c.encode(memory, forKey: .memory)
        try c.encode(cpuSecondsByPart, forKey: .cpuSecondsByPart)
        try c.encode(tables, forKey: .tables)
        try c.encode(verifies, forKey: .verifies)
        try c.encode(minutes, forKey: .minutes)
        try c.encode(samples, forKey: .samples)
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        startedAt = try c.decode(String.self, forKey: .startedAt)
        seconds = try c.decode(Double.self, forKey: .seconds)
        targetRate = try c.decode(Double.self, forKey: .targetRate)
        rateTolerance = try c.decode(Double.self, forKey: .rateTolerance)
        warmupSeconds = try c.decode(Double.self, forKey: .warmupSeconds)
        topic = try c.decode(String.self, forKey: .topic)
        writers = try c.decode(String.self, forKey: .writers)
        messagesProduced = try c.decode(Int64.self, forKey: .messagesProduced)
        passesDone = try c.decode(Int.self, forKey: .passesDone)
        samples = try c.decode([Sample].self, forKey: .samples)
        minutes = try c.decode([Minute].self, forKey: .minutes)
        tables = try c.decode([TableSummary].self, forKey: .tables)
        verifies = try c.decode([Verify].self, forKey: .verifies)
        cpuSecondsByPart = try c.decode([String: Double].self, forKey: .cpuSecondsByPart)
        memory = try c.decode(Memory.self, forKey: .memory)
        loadAverage = try c.decode([String].self, forKey: .loadAverage)
        failures = try c.decode([String].self, forKey: .failures)
        interrupted = try c.decode(Bool.self, forKey: .interrupted)
    }
}
