import Foundation
import K2Core
import Kafka

/// `--passes` / `--duration`: the log replayed into Kafka pass after pass, each re-stamped (`PassStamp`) and
/// resumable on its own (its checkpoint's identity holds the pass); the pass ledger says which pass is under way.
struct PassReplay {
    let context: ReplayContext
    let directory: String
    let passes: ReplayPasses

    func run() throws -> ReplayReport {
        var configuration = context.configuration
        let store = configuration.stateDirectory ?? CheckpointStore.defaultDirectory()
        let canonicalLog = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        let ledger = PassLedger(stateDirectory: store, configuration: configuration, log: canonicalLog)
        // One embedded cluster for every pass (each pass's own would be gone when it ends).
        var embedded: EmbeddedKafkaCluster?
        defer { withExtendedLifetime(embedded) {} }
        if configuration.bootstrap == .embedded {
            let cluster = try EmbeddedKafkaCluster(brokers: 3)
            embedded = cluster
            configuration.bootstrap = .servers(cluster.bootstrap)
            context.notice("embedded Kafka at \(cluster.bootstrap) (gone when this run ends)")
        }
        var stamp = try ledger.load() ?? PassStamp(pass: 0, anchorMs: Self.wallClockMs())
        if stamp.pass > 0 || FileManager.default.fileExists(atPath: ledger.path) {
            context.notice("passes: resuming pass \(stamp.pass + 1) (\(ledger.path))")
        }
        try ledger.write(stamp)

        let started = Pacer.monotonicNanos()
        let passStop = CancellationSignal()
        // The pass ends at the run's stop, or at the duration's end.
        let watcher = Thread { [stop = context.stop] in
            while !passStop.isCancelled {
                if stop.isCancelled { passStop.cancel(); break }
                if let seconds = passes.durationSeconds, Double(Pacer.monotonicNanos() - started) / 1e9 >= seconds {
                    passStop.cancel()
                    break
                }
                usleep(20_000)
            }
        }
        watcher.start()
        defer { passStop.cancel() }

        var total = ReplayReport()
        var produced = 0, skipped = 0, ran = 0
        while !passStop.isCancelled {
            if let count = passes.count, stamp.pass >= count { break }
            var passConfiguration = configuration
            passConfiguration.restamp = stamp
            let report = try ReplayEngine(configuration: passConfiguration, stop: passStop, diagnostics: context.diagnostics).run()
            total.records += report.records
            total.messages += report.messages
            if case .int(let n)? = report.details["produced"] { produced += n }
            if case .int(let n)? = report.details["skipped_already_in_kafka"] { skipped += n }
            ran += 1
            if report.interrupted { break }
            context.note("pass \(stamp.pass + 1) done: \(report.messages) messages")
            stamp = PassStamp(pass: stamp.pass + 1, anchorMs: nextAnchor(after: stamp, messages: report.messages, pacing: configuration.pacing))
            try ledger.write(stamp)
        }
        total.seconds = Double(Pacer.monotonicNanos() - started) / 1e9
        // Interrupted only by a stop request; the duration's end is the loop's normal end.
        total.interrupted = context.stop.isCancelled
        total.details = ["produced": .int(produced), "skipped_already_in_kafka": .int(skipped), "passes_run": .int(ran),
                         "passes_done": .int(stamp.pass), "pass_ledger": .string(ledger.path)]
        return total
    }

    /// The next pass's timeline: it continues the previous pass's (the pacer then catches up the pause between
    /// passes, so the rate holds across them) when that ended no longer ago than the pacer's burst can catch up;
    /// else it starts now. Never before the last stamp of the pass before: a partition's timestamps keep rising
    /// with its offsets.
    private func nextAnchor(after stamp: PassStamp, messages: Int, pacing: ReplayPacing) -> Int64 {
        let now = Self.wallClockMs()
        guard case .rate(let perSecond, let burst) = pacing else { return max(now, stamp.anchorMs + 1) }
        let end = stamp.anchorMs + Int64((Double(messages) * 1000 / perSecond).rounded(.up)) + 1
        let catchUpMs = Int64(burst * 1000 / perSecond)
        return end >= now - catchUpMs ? end : now
    }

    static func wallClockMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
