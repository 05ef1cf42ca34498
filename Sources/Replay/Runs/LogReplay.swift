import K2Core
import Bronze
import Foundation
import Kafka
import SegmentLog

/// A segment log into Kafka (K2's messages), as JSON lines, or counted by a dry run.
struct LogReplay {
    let context: ReplayContext
    let directory: String

    private var configuration: ReplayConfiguration { context.configuration }

    /// The log records the configuration selects.
    static func selection(_ configuration: ReplayConfiguration) -> ReadSelection {
        var selection = ReadSelection()
        selection.sources = configuration.sources
        if let symbols = configuration.symbols {
            var streams = Set<String>()
            for symbol in symbols {
                streams.insert(symbol)
                if !symbol.contains("@") && !symbol.contains("/") { streams.insert(symbol.lowercased() + "@trade") }
            }
            selection.streams = streams
        }
        selection.fromTimeNanos = configuration.sinceNanos
        selection.untilTimeNanos = configuration.untilNanos
        if configuration.target == .kafka || configuration.dryRun || configuration.dataOnly { selection.kinds = [.data] }
        return selection
    }

    func run() throws -> ReplayReport {
        let selection = Self.selection(configuration)
        let selectedStreams = try SegmentLogReader.streams(in: directory).filter { key in
            (selection.sources?.contains(key.source) ?? true) && (selection.streams?.contains(key.stream) ?? true)
        }
        let (kafkaConfig, embedded) = try context.kafkaClient()
        defer { withExtendedLifetime(embedded) {} }

        var checkpointLock: CheckpointLock?
        defer { withExtendedLifetime(checkpointLock) {} }
        var router = KafkaTargetRouter(topicOverride: configuration.topic, partitionCounts: [:],
                                       defaultPartitions: configuration.topicPartitions)
        let sink: ReplaySink
        let mode: SegmentLogSource.Mode
        var planLines: () -> [String] = { [] }
        switch (configuration.target, configuration.dryRun) {
        case (.kafka, false):
            let schemaIds = try context.resolveSchemaIds(configuration.format, streams: selectedStreams)
            let target = try context.openKafkaTarget(kafkaConfig, embedded: embedded, router: router, streams: selectedStreams) { clusterId in
                ReplayIdentity(
                    log: directory, sources: selection.sources?.sorted(), symbols: selection.streams?.sorted(),
                    sinceNanos: selection.fromTimeNanos, untilNanos: selection.untilTimeNanos, format: configuration.format.rawValue,
                    schemaIds: Dictionary(uniqueKeysWithValues: schemaIds.map { ($0.key.rawValue, $0.value) }),
                    topic: configuration.topic, clusterId: clusterId, pass: configuration.restamp)
            }
            checkpointLock = target.lock
            sink = try KafkaSink(producer: target.producer, format: configuration.format, schemaIds: schemaIds, router: target.router,
                                 pacer: context.pacer(), logPath: directory, provenance: configuration.provenance, plan: target.plan,
                                 store: target.store, checkpointIntervalSeconds: configuration.checkpointIntervalSeconds,
                                 restamp: configuration.restamp, stop: context.stop, diagnostics: context.diagnostics)
            mode = .views
        case (.kafka, true):
            if configuration.bootstrap != nil {
                let producer = try KafkaProducer(config: kafkaConfig)
                router.partitionCounts = try producer.topics()
            }
            let dryRun = DryRunSink(format: configuration.format, router: router)
            planLines = { dryRun.planLines }
            sink = dryRun
            mode = .records
        case (.jsonl, _):
            sink = JSONLSink(output: configuration.jsonlOutput)
            mode = .records
        case (.iceberg, _):
            throw ReplayError.usage("a log into a table is IcebergReplay's")
        }

        let reader = try SegmentLogReader(directory: directory, selection: selection,
                                          diagnostics: { [context] in context.notice("log: \($0)") })
        // The total comes from the segment indexes (an upper bound, shown as "~N"), not a counting pass.
        let progress = ProgressReporter(total: reader.plannedRecordCount,
                                        enabled: configuration.target == .kafka && !configuration.dryRun,
                                        intervalSeconds: configuration.progressIntervalSeconds,
                                        diagnostics: context.diagnostics)
        let (records, messages) = try SegmentLogSource(reader: reader).run(into: sink, mode: mode, stop: context.stop, progress: progress)
        var report = try context.finish(sink, records: records, messages: messages, seconds: { progress.elapsedSeconds })
        report.details["corrupt_blocks_skipped"] = .int(reader.statistics.corruptBlocksSkipped)
        report.plan = planLines()
        return report
    }
}

extension ReplayContext {
    /// The end of a run: waits for `sink` (every delivery report or commit), then reports.
    func finish(_ sink: ReplaySink, records: Int, messages: Int, seconds: () -> Double) throws -> ReplayReport {
        if stop.isCancelled { notice("interrupted after \(records) records: flushing what was written") }
        try sink.finish()
        var report = ReplayReport()
        report.records = records
        report.messages = messages
        report.seconds = seconds()
        report.interrupted = stop.isCancelled
        report.dryRun = configuration.dryRun
        report.details = sink.summary
        return report
    }
}
