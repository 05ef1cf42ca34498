import Bronze
import CoreMetrics
import Foundation
import Iceberg
import K2Core
import Kafka
import Parity
import ParitySides
import Replay

/// The burn-in (docs/burn-in.md): in one process, a log replayed into Kafka at a fixed rate pass after pass
/// (re-stamped, `ReplayPasses`), the Bronze tables watched (and, with `runBackfills`, written by follow-mode
/// backfills of both styles), a parity check of every table against the topic every few minutes, and one
/// sample a second of the rate, each table's lag and latency, memory and CPU. Prints nothing: `diagnostics`
/// gets its notes; `metrics` makes the live gauges (the caller serves them).
public final class BurnInEngine {
    public let configuration: BurnInConfiguration
    private let stop: CancellationSignal
    private let metricsFactory: MetricsFactory
    private let diagnostics: @Sendable (String) -> Void

    public init(configuration: BurnInConfiguration, stop: CancellationSignal, metrics: MetricsFactory,
                diagnostics: @escaping @Sendable (String) -> Void) {
        self.configuration = configuration
        self.stop = stop
        metricsFactory = metrics
        self.diagnostics = diagnostics
    }

    /// Runs the burn-in to its end (its duration, then the tables' catch-up and a last check) or a stop
    /// request; the report says whether it passed. Throws when it cannot start (Kafka, catalog, log).
    public func run() async throws -> BurnInReport {
        let c = configuration
        var report = BurnInReport()
        report.startedAt = RFC3339.format(epochSeconds: Int64(time(nil)))
        report.targetRate = c.ratePerSecond
        report.rateTolerance = c.rateTolerance
        report.warmupSeconds = c.warmupSeconds
        report.topic = c.topic
        report.writers = c.runBackfills ? "follow-mode backfills in this process (k2-replay --follow), one per table"
                                        : "external jobs (watched only)"
        report.loadAverage.append(Self.loadAverage())

        // Kafka: the embedded cluster lives as long as this call.
        var embedded: EmbeddedKafkaCluster?
        defer { withExtendedLifetime(embedded) {} }
        let bootstrap: String
        switch c.bootstrap {
        case .embedded:
            let cluster = try EmbeddedKafkaCluster(brokers: 3)
            for exchange in BronzeExchange.allCases { try cluster.createTopic(exchange.topic, partitions: c.topicPartitions) }
            embedded = cluster
            bootstrap = cluster.bootstrap
            diagnostics("embedded Kafka at \(bootstrap) (gone when the burn-in ends)")
        case .servers(let servers):
            bootstrap = servers
        }
        let consumer = try makeConsumer(bootstrap)
        let catalog = try await c.catalog.open(create: true)
        let watchers = try c.tables.map { try TableWatcher(table: $0) }
        let metrics = BurnInMetrics(factory: metricsFactory, tables: c.tables)

        // The parts, each on its own thread with its own stop.
        let replay = BackgroundRun(name: "replay", threadName: "burnin:replay", configuration: replayConfiguration(bootstrap),
                                   diagnostics: forward("replay"))
        var follows: [BackgroundRun] = []
        if c.runBackfills {
            for table in c.tables {
                follows.append(BackgroundRun(name: "follow \(table.name)", threadName: "burnin:" + table.style.rawValue,
                                             configuration: followConfiguration(bootstrap, table), diagnostics: forward(table.name)))
            }
        }
        defer {
            replay.stop.cancel()
            for follow in follows { follow.stop.cancel() }
        }

        let started = Self.monotonicSeconds()
        let k2Topics = BronzeExchange.allCases.map(\.topic)
        let producedAtStart = try producedTotal(consumer, topics: k2Topics)
        let followedAtStart = try producedTotal(consumer, topics: [c.topic])
        var lastProduced = producedAtStart
        var lastT = 0.0
        var lastCPU = ProcessUsage.processCPUSeconds()
        var threadCPU: [Int: (name: String, seconds: Double)] = [:]
        var cumulative: [(t: Double, messages: Int64)] = [(0, 0)]
        var nextVerify = c.verifyIntervalSeconds
        var verifying: VerifyTask?
        var replayEndedAt: Double?
        var stalled = Set<String>()
        var maxLag = [Int64](repeating: 0, count: watchers.count)
        var second = 0

        while true {
            second += 1
            let wake = started + Double(second)
            let now = Self.monotonicSeconds()
            if wake > now { usleep(UInt32((wake - now) * 1e6)) }
            let t = Self.monotonicSeconds() - started
            if stop.isCancelled { report.interrupted = true; break }

            let produced = try producedTotal(consumer, topics: k2Topics)
            let followed = try producedTotal(consumer, topics: [c.topic]) - followedAtStart
            let rate = Double(produced - lastProduced) / max(0.001, t - lastT)
            lastProduced = produced
            cumulative.append((t, produced - producedAtStart))
            let cpu = ProcessUsage.processCPUSeconds()
            let cores = (cpu - lastCPU) / max(0.001, t - lastT)
            lastCPU = cpu
            lastT = t
            for (tid, usage) in ProcessUsage.threads() { threadCPU[tid] = usage }

            var lags: [Int64] = []
            var p99s: [Double?] = []
            for (index, watcher) in watchers.enumerated() {
                do {
                    try await watcher.refreshRows(catalog, at: t)
                    if second % 5 == 0 { try await watcher.scanNewFiles(catalog) }
                } catch {
                    diagnostics("watch \(watcher.table.name): \(error)")
                }
                let lag = max(0, followed - watcher.rowsAdded)
                lags.append(lag)
                maxLag[index] = max(maxLag[index], lag)
                p99s.append(second % 5 == 0 ? watcher.takeWindowP99() : nil)
                metrics.tableRows[index].record(watcher.rows)
                metrics.tableLag[index].record(lag)
                if watcher.latency.totalCount > 0 {
                    metrics.latencyP50[index].record(Double(watcher.latency.valueAtPercentile(50)))
                    metrics.latencyP99[index].record(Double(watcher.latency.valueAtPercentile(99)))
                    metrics.latencyMax[index].record(Double(watcher.latency.max))
                }
                if replayEndedAt == nil, lag > 0, t - watcher.lastGrowth > c.stallSeconds, !stalled.contains(watcher.table.name) {
                    stalled.insert(watcher.table.name)
                    report.failures.append("table \(watcher.table.name) stopped growing: no new rows for \(Int(c.stallSeconds)) s "
                                           + "at t=\(Int(t)) s while \(lag) messages of \(c.topic) were not in it")
                }
            }
            let resident = ProcessUsage.residentBytes()
            report.samples.append(BurnInReport.Sample(t: (t * 10).rounded() / 10, rate: rate.rounded(), messages: produced - producedAtStart,
                                                      rows: watchers.map(\.rows), lag: lags, latencyP99Ms: p99s,
                                                      residentBytes: resident, cpuCores: (cores * 100).rounded() / 100))
            metrics.rate.record(rate)
            metrics.produced.record(produced - producedAtStart)
            metrics.residentBytes.record(resident)
            metrics.cpuCores.record(cores)

            for follow in follows where follow.result != nil && !stalled.contains(follow.name) {
                stalled.insert(follow.name)
                report.failures.append("\(follow.name) ended early: \(Self.describe(follow.result!))")
            }
            if let task = verifying, let done = task.outcome {
                verifying = nil
                record(done, into: &report, metrics: metrics)
            }
            if replayEndedAt == nil, replay.result != nil {
                replayEndedAt = t
                if case .failure(let error) = replay.result! { report.failures.append("replay failed: \(error)") }
                diagnostics("replay ended at t=\(Int(t)) s; waiting for the tables to catch up")
            }
            if replayEndedAt == nil, t >= nextVerify, verifying == nil {
                nextVerify += c.verifyIntervalSeconds
                for watcher in watchers { try? await watcher.scanNewFiles(catalog) }
                verifying = VerifyTask(engine: self, catalog: catalog, bootstrap: bootstrap, watchers: watchers, at: t)
            }
            if let ended = replayEndedAt, verifying == nil {
                if lags.allSatisfy({ $0 == 0 }) || t - ended > c.drainSeconds { break }
            }
        }

        // The end: the last check covers the whole topic (the tables caught up), then the backfills stop.
        if let task = verifying { record(await task.wait(), into: &report, metrics: metrics) }
        if !report.interrupted {
            let final = await verify(catalog: catalog, bootstrap: bootstrap, watchers: nil, at: Self.monotonicSeconds() - started)
            record(final, into: &report, metrics: metrics)
        }
        replay.stop.cancel()
        let replayReport = replay.wait()
        for follow in follows { follow.stop.cancel() }
        for follow in follows {
            if case .failure(let error) = follow.wait(), !(error is Interrupted) {
                diagnostics("\(follow.name): \(error)")
            }
        }
        if case .success(let passes) = replayReport, case .int(let done)? = passes.details["passes_done"] { report.passesDone = done }

        report.seconds = Self.monotonicSeconds() - started
        report.messagesProduced = cumulative.last?.messages ?? 0
        for (index, watcher) in watchers.enumerated() {
            let h = watcher.latency
            let latency = h.totalCount == 0 ? BurnInReport.Latency()
                : BurnInReport.Latency(p50: Double(h.valueAtPercentile(50)), p99: Double(h.valueAtPercentile(99)), max: Double(h.max))
            report.tables.append(BurnInReport.TableSummary(
                name: watcher.table.name, style: watcher.table.style.rawValue, rows: watcher.rows,
                finalLag: report.samples.last?.lag[index] ?? 0, maxLag: maxLag[index], latencyMs: latency,
                rowsLatencyMeasured: Int64(h.totalCount)))
        }
        for (_, usage) in threadCPU {
            report.cpuSecondsByPart[ProcessUsage.part(ofThread: usage.name), default: 0] += usage.seconds
        }
        report.cpuSecondsByPart = report.cpuSecondsByPart.mapValues { ($0 * 10).rounded() / 10 }
        report.loadAverage.append(Self.loadAverage())
        judge(&report, cumulative: cumulative, replayEnded: replayEndedAt ?? report.seconds)
        return report
    }

    // MARK: Parts

    private func replayConfiguration(_ bootstrap: String) -> ReplayConfiguration {
        let c = configuration
        var replay = ReplayConfiguration(origin: .segmentLog(directory: c.log))
        replay.target = .kafka
        replay.bootstrap = .servers(bootstrap)
        replay.kafkaProperties = c.kafkaProperties
        // librdkafka's mock cluster answers a fetch with one produce batch of a partition, so each batch costs
        // every consumer a round trip: at 5,000 msg/s with the producer's 5 ms linger the burn-in took 1.4 cores,
        // 1.3 of them in Kafka threads; with 50 ms, 0.2 cores, 0.06 in Kafka threads.
        // A real broker serves many batches per fetch: there the producer keeps its settings (-X to change them).
        if c.bootstrap == .embedded, !c.kafkaProperties.contains(where: { ["linger.ms", "queue.buffering.max.ms"].contains($0.key) }) {
            replay.kafkaProperties.append((key: "linger.ms", value: "50"))
        }
        replay.format = c.format
        replay.schemaRegistry = c.schemaRegistry
        replay.schemaIds = c.schemaIds
        if c.schemaIds == nil, c.schemaRegistry == nil, c.format == .avroConfluent, c.bootstrap == .embedded {
            replay.schemaIds = [.binance: 1, .kraken: 2]
        }
        replay.topicPartitions = c.topicPartitions
        // A burst of one second's messages: the pause between two passes (a new producer and checkpoint) and a
        // moment's stall are caught up within it, so each minute holds the rate; the schedule never runs ahead.
        replay.pacing = .rate(perSecond: c.ratePerSecond, burst: max(1, c.ratePerSecond))
        replay.passes = ReplayPasses(durationSeconds: c.durationSeconds)
        replay.stateDirectory = c.stateDirectory + "/replay"
        return replay
    }

    private func followConfiguration(_ bootstrap: String, _ table: BurnInTable) -> ReplayConfiguration {
        let c = configuration
        var follow = ReplayConfiguration(origin: .kafka(bootstrap: bootstrap, topic: c.topic))
        follow.target = .iceberg
        follow.follow = true
        follow.kafkaProperties = c.kafkaProperties
        follow.topicPartitions = c.topicPartitions
        var target = IcebergTarget(catalog: c.catalog, table: table.name, style: table.style)
        target.create = true
        target.commitRows = c.commitRows
        target.commitSeconds = c.commitSeconds
        target.exchange = BronzeExchange.allCases.first { $0.topic == c.topic }
        follow.iceberg = target
        return follow
    }

    /// A part's warnings and notices, named; its progress lines and info notes are left out.
    private func forward(_ part: String) -> ReplayDiagnostics {
        let diagnostics = self.diagnostics
        return { note in
            if note.kind == .warning || note.kind == .notice { diagnostics("\(part): \(note.text)") }
        }
    }

    /// A consumer of `bootstrap` with the `-X` properties (for watermarks and metadata only: nothing assigned).
    private func makeConsumer(_ bootstrap: String) throws -> KafkaConsumer {
        var kafkaConfig = KafkaConfig()
        for (key, value) in configuration.kafkaProperties { kafkaConfig.set(key, value) }
        kafkaConfig.set("bootstrap.servers", bootstrap)
        return try KafkaConsumer(config: kafkaConfig)
    }

    private func producedTotal(_ consumer: KafkaConsumer, topics: [String]) throws -> Int64 {
        let counts = try consumer.topics()
        var total: Int64 = 0
        for topic in topics {
            guard let partitions = counts[topic] else { continue }
            for partition in 0..<partitions { total += try consumer.watermarks(topic: topic, partition: partition).high }
        }
        return total
    }

    /// What a periodic check of `watcher`'s table covers, fixed when that table's check starts: per partition
    /// holding rows, the newer half of what the topic holds (`[low + (high - low) / 2, high - 1]`) up to the
    /// largest offset the table has committed there (so a table that lags is not reported missing what it has
    /// not reached yet). Only the newer half: retention (the embedded cluster keeps about 5 MB a partition)
    /// drops the oldest records while a check reads, and a check from the topic's start raced it and failed.
    /// nil: the table has committed nothing yet.
    fileprivate func periodicScope(of watcher: TableWatcher, bootstrap: String) throws -> ParityScope? {
        let committed = watcher.committedOffsets
        guard !committed.isEmpty else { return nil }
        let consumer = try makeConsumer(bootstrap)
        guard let partitions = try consumer.topics()[configuration.topic] else { return nil }
        var ranges: [Int32: [OffsetRange]] = [:]
        for partition in 0..<partitions {
            let marks = try consumer.watermarks(topic: configuration.topic, partition: partition)
            guard marks.high > marks.low else { continue }
            let first = marks.low + (marks.high - marks.low) / 2
            // A partition the table has nothing of is checked whole (newer half): it is missing, or lags badly.
            let last = min(committed[partition] ?? (marks.high - 1), marks.high - 1)
            if first <= last { ranges[partition] = [OffsetRange(first, last)] }
        }
        return ranges.isEmpty ? nil : ParityScope(offsets: PartitionOffsetRanges(exactly: ranges))
    }

    // MARK: Checks

    /// Every table against the topic: the whole topic (`watchers` nil: the last check), or each table's
    /// `periodicScope`, fixed when its own check starts. The topic is the left side, read first, while
    /// retention still holds the scope's records; the table is read after.
    fileprivate func verify(catalog: any Catalog, bootstrap: String, watchers: [TableWatcher]?, at t: Double) async -> [BurnInReport.Verify] {
        var out: [BurnInReport.Verify] = []
        for (index, table) in configuration.tables.enumerated() {
            let begun = Self.monotonicSeconds()
            var scopeText: String?
            do {
                var scope = ParityScope()
                if let watcher = watchers?[index] {
                    guard let periodic = try periodicScope(of: watcher, bootstrap: bootstrap) else {
                        diagnostics("t=\(Int(t)) s: no check of \(table.name) yet (it has committed nothing)")
                        continue
                    }
                    scope = periodic
                    scopeText = periodic.offsets?.description
                }
                let check = ParityCheck(configuration: ParityCheckConfiguration(
                    left: .kafka(bootstrap: bootstrap, topic: configuration.topic), right: .table(try TableIdentifier(table.name)),
                    scope: scope), catalog: catalog)
                let result = try await check.run(cancellation: stop, diagnostics: { [diagnostics] in diagnostics("verify: \($0)") })
                out.append(BurnInReport.Verify(t: (t * 10).rounded() / 10, table: table.name, offsets: scopeText, parity: result.parity,
                                               rowsTable: result.summary.rows.right ?? 0, rowsKafka: result.summary.rows.left ?? 0,
                                               problems: result.summary.problems,
                                               seconds: ((Self.monotonicSeconds() - begun) * 10).rounded() / 10))
            } catch {
                out.append(BurnInReport.Verify(t: (t * 10).rounded() / 10, table: table.name, offsets: scopeText, parity: false,
                                               rowsTable: 0, rowsKafka: 0, problems: ["check could not run: \(error)"],
                                               seconds: ((Self.monotonicSeconds() - begun) * 10).rounded() / 10))
            }
        }
        return out
    }

    private func record(_ verifies: [BurnInReport.Verify], into report: inout BurnInReport, metrics: BurnInMetrics) {
        for verify in verifies {
            report.verifies.append(verify)
            metrics.verifies.increment()
            diagnostics("verify \(verify.table), offsets \(verify.offsets ?? "all"): " + (verify.parity ? "parity" : "MISMATCH")
                        + " (\(verify.rowsTable) rows, Kafka \(verify.rowsKafka), \(verify.seconds) s)")
            if !verify.parity {
                metrics.verifyFailures.increment()
                report.failures.append("verify of \(verify.table) at t=\(Int(verify.t)) s failed: "
                                       + verify.problems.prefix(3).joined(separator: "; "))
            }
        }
    }

    /// The rate of each whole minute of the replay (judged after warm-up) and memory growth.
    private func judge(_ report: inout BurnInReport, cumulative: [(t: Double, messages: Int64)], replayEnded: Double) {
        let c = configuration
        func messages(at t: Double) -> Int64? {
            // The sample nearest to t, by linear interpolation between the two around it.
            guard let after = cumulative.firstIndex(where: { $0.t >= t }) else { return nil }
            if after == 0 { return cumulative[0].messages }
            let (a, b) = (cumulative[after - 1], cumulative[after])
            let fraction = (t - a.t) / max(0.001, b.t - a.t)
            return a.messages + Int64((Double(b.messages - a.messages) * fraction).rounded())
        }
        var minute = 0
        while Double(minute + 1) * 60 <= replayEnded - 1 {
            let start = Double(minute) * 60
            if let a = messages(at: start), let b = messages(at: start + 60) {
                let rate = Double(b - a) / 60
                let slip = (rate - c.ratePerSecond) / c.ratePerSecond
                let warmup = start < c.warmupSeconds
                report.minutes.append(BurnInReport.Minute(minute: minute, messages: b - a, rate: (rate * 10).rounded() / 10,
                                                          slip: (slip * 10000).rounded() / 10000, warmup: warmup))
                if !warmup && abs(slip) > c.rateTolerance {
                    report.failures.append("rate slipped in minute \(minute): \(String(format: "%.1f", rate)) msg/s "
                                           + "(\(String(format: "%+.2f", slip * 100))%, allowed ±\(c.rateTolerance * 100)%)")
                }
            }
            minute += 1
        }
        func median(from start: Double, to end: Double) -> Int64 {
            guard start < end else { return 0 }
            let values = report.samples.filter { $0.t >= start && $0.t < end }.map(\.residentBytes).sorted()
            return values.isEmpty ? 0 : values[values.count / 2]
        }
        // A run shorter than warm-up and two minutes has no such minutes: memory is not judged.
        report.memory.afterWarmup = median(from: c.warmupSeconds, to: min(c.warmupSeconds + 60, replayEnded))
        report.memory.lastMinute = median(from: max(c.warmupSeconds + 60, replayEnded - 60), to: replayEnded)
        report.memory.peak = report.samples.map(\.residentBytes).max() ?? 0
        if report.memory.afterWarmup > 0, report.memory.lastMinute > 0, report.memory.lastMinute - report.memory.afterWarmup > c.memoryGrowthLimitBytes {
            report.failures.append("memory kept growing: \(report.memory.afterWarmup >> 20) MiB after warm-up, "
                                   + "\(report.memory.lastMinute >> 20) MiB in the last minute (allowed +\(c.memoryGrowthLimitBytes >> 20) MiB)")
        }
    }

    // MARK: Helpers

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func describe(_ result: Result<ReplayReport, Error>) -> String {
        switch result {
        case .success(let report): return report.interrupted ? "stopped" : "finished"
        case .failure(let error): return "\(error)"
        }
    }
}

/// A parity check running beside the sampling loop; `outcome` is set when it is done.
private final class VerifyTask: @unchecked Sendable {
    private let lock = NSLock()
    private var result: [BurnInReport.Verify]?
    private let done = DispatchSemaphore(value: 0)

    init(engine: BurnInEngine, catalog: any Catalog, bootstrap: String, watchers: [TableWatcher], at t: Double) {
        Task.detached { [self] in
            let verifies = await engine.verify(catalog: catalog, bootstrap: bootstrap, watchers: watchers, at: t)
            lock.withLock { result = verifies }
            done.signal()
        }
    }

    var outcome: [BurnInReport.Verify]? { lock.withLock { result } }

    func wait() async -> [BurnInReport.Verify] {
        while outcome == nil { try? await Task.sleep(nanoseconds: 100_000_000) }
        return outcome!
    }
}
