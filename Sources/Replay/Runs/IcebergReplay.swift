import Bronze
import Foundation
import Iceberg
import Kafka
import SegmentLog

/// A segment log or Kafka topic range into a Bronze table (`--to iceberg`).
///
/// Exactly once: every commit carries `k2.replay.*` progress keys (`BronzeReplayProgress`) under a run id
/// derived from the parsed values that pick the rows (source, selection, table, style, shard, value format).
/// The same commit sets them as the run's table properties (`k2.replay.<run-id>.*`), which survive the
/// expiry of the run's snapshots; a rerun with the same values reads them (or, for runs recorded before
/// them, the table's history) and resumes after them; replays with other values (other sources, other
/// shards) have other run ids and commit independently (FastAppend retries on conflicts).
struct IcebergReplay {
    let context: ReplayContext

    private var configuration: ReplayConfiguration { context.configuration }

    func run() throws -> ReplayReport {
        guard let target = configuration.iceberg else { throw ReplayError.usage("--to iceberg needs --table market_data.NAME") }
        do {
            return try replay(target)
        } catch let error as BronzeTableError {
            throw ReplayError.usage("\(error)")
        } catch let error as IcebergError {
            switch error {
            case .commitConflict, .commitFailed, .corruptFile: throw ReplayError.failed("\(error)")
            case .commitStateUnknown:
                // A rerun with the same arguments reads the table's progress and continues from what landed.
                throw ReplayError.failed("\(error); run again with the same arguments to continue")
            default: throw ReplayError.usage("\(error)")
            }
        } catch let error as RESTCatalogError {
            throw ReplayError.unusable("\(error)")
        } catch let error as SQLError {
            throw ReplayError.unusable("catalog \(target.catalog.catalogDescription): \(error)")
        }
    }

    private func replay(_ target: IcebergTarget) throws -> ReplayReport {
        let style = target.style
        let identifier = try TableIdentifier(target.table)
        let shard = configuration.shard
        let valueFormat = configuration.format
        let run = try RunIdentity.iceberg(context, table: identifier, style: style)

        var selectedStreams: [StreamKey] = []
        var selection = LogReplay.selection(configuration)
        if case .segmentLog(let directory) = configuration.origin {
            selectedStreams = try SegmentLogReader.streams(in: directory).filter { key in
                (selection.sources?.contains(key.source) ?? true) && (selection.streams?.contains(key.stream) ?? true)
            }.filter { shard.contains(source: $0.source, stream: $0.stream) }
        }

        let catalog = try openCatalog(target)
        let table = try loadOrCreate(catalog, identifier, target: target, exchange: exchange(target, streams: selectedStreams))
        _ = try style.checkSchema(of: table)
        var runId = run.current
        var previous = try BronzeReplayProgress.latest(in: table, runId: runId)
        if previous == nil {
            // A run begun before run ids were derived from parsed values resumes under the id it started with.
            for legacy in run.legacy {
                if let found = try BronzeReplayProgress.latest(in: table, runId: legacy) {
                    previous = found
                    runId = legacy
                    break
                }
            }
        }
        let progress = previous ?? BronzeReplayProgress(runId: runId, source: run.sourceDescription)
        if let previous {
            context.note("resuming run \(runId): \(previous.rows) rows in \(previous.commits) commits already in \(identifier)")
        }
        let appender = try BronzeTableAppender(catalog: catalog, table: table, style: style, progress: progress,
                                               writes: !configuration.dryRun)
        appender.extraSummary = ["k2.replay.style": style.rawValue]

        if appender.offsetRequired, let stream = selectedStreams.first(where: { !$0.source.hasPrefix("kafka:") }) {
            throw ReplayError.usage("""
                table \(identifier) requires column offset (a Flink-style Bronze table: every column is required), \
                but \(stream) was captured from the exchange and has no Kafka offsets. Replay the log into Kafka \
                first (k2-replay --to kafka) and backfill from the topic (--from kafka://HOST:PORT/TOPIC), or write \
                a Spark-style table (--style spark), whose offset column is optional.
                """)
        }

        let schemaIds: [BronzeExchange: Int32]
        if !selectedStreams.contains(where: { BronzeExchange(source: $0.source) != nil }) {
            schemaIds = [:]   // only Kafka records: their values are replayed as they are
        } else if configuration.dryRun, configuration.schemaIds == nil, configuration.schemaRegistry == nil {
            schemaIds = [.binance: 0, .kraken: 0]
        } else {
            schemaIds = try context.resolveSchemaIds(valueFormat, streams: selectedStreams)
        }
        let fromTopic: Bool
        if case .kafka = configuration.origin { fromTopic = true } else { fromTopic = false }
        let sink = IcebergSink(appender: appender, format: valueFormat, schemaIds: schemaIds, partitions: configuration.topicPartitions,
                               ingestionClock: target.captureIngestionTime ? .capture : configuration.follow ? .row : .commit, commitRows: target.commitRows,
                               commitSeconds: target.commitSeconds, pacer: context.pacer(), offsetsAsProgress: fromTopic,
                               stop: context.stop, diagnostics: context.diagnostics)
        if case .segmentLog = configuration.origin, configuration.offsets != .everything { sink.kafkaOffsets = configuration.offsets }
        let progressLine = ProgressReporter(total: nil, enabled: !configuration.dryRun,
                                            intervalSeconds: configuration.progressIntervalSeconds, diagnostics: context.diagnostics)
        var records = 0

        switch configuration.origin {
        case .segmentLog(let directory):
            selection.kinds = [.data]
            selection.streams = Set(selectedStreams.map(\.stream))
            for key in selectedStreams {
                if let done = progress.done[IcebergSink.progressKey(key)] {
                    selection.resumeAfter[key] = UInt64(bitPattern: done)
                }
            }
            let reader = try SegmentLogReader(directory: directory, selection: selection,
                                              diagnostics: { [context] in context.notice("log: \($0)") })
            progressLine.total = reader.plannedRecordCount
            // Read ahead on another thread; each record a view of the chunk it was read into.
            records = try SegmentLogSource(reader: reader).run(into: sink, mode: .readAhead(streams: selectedStreams),
                                                               stop: context.stop, progress: progressLine).records
        case .kafka(let bootstrap, let topic):
            var config = try context.kafkaProperties()
            config.set("bootstrap.servers", bootstrap)
            let source = context.kafkaTopicSource(config: config, topic: topic)
            let consumer = try KafkaConsumer(config: config, bulkRead: true)
            let plan = try source.plan(consumer, ledger: TableLedger(appender: appender), destination: "table \(identifier)")
            records = try source.run(consumer, plan, into: sink, progress: progressLine)
        }
        var report = try context.finish(sink, records: records, messages: sink.rowsWritten, seconds: { progressLine.elapsedSeconds })
        if configuration.dryRun { report.plan = planLines(appender, identifier, target) }
        if !configuration.dryRun {
            context.note("done: \(records) records, \(appender.rowsCommitted) rows in \(appender.commits) commits "
                         + "(\(appender.filesCommitted) files) into \(identifier) in \(String(format: "%.1f", progressLine.elapsedSeconds)) s")
        }
        return report
    }

    /// The id of the Kafka cluster at `bootstrap` (with the `-X` properties, for security settings).
    static func clusterId(_ context: ReplayContext, bootstrap: String) throws -> String {
        var config = try context.kafkaProperties()
        config.set("bootstrap.servers", bootstrap)
        let consumer = try KafkaConsumer(config: config)
        guard let id = consumer.clusterId() else {
            throw ReplayError.unusable("Kafka at \(bootstrap) reports no cluster id, which names this backfill's run")
        }
        return id
    }

    /// The exchange a table made by `--create` is for (its properties depend on it): given, else the one
    /// exchange of the selected log streams or of the K2 topic read; Binance's when they are several or none.
    private func exchange(_ target: IcebergTarget, streams: [StreamKey]) -> BronzeExchange {
        if let exchange = target.exchange { return exchange }
        var found = Set(streams.compactMap { BronzeExchange(source: $0.source) })
        for stream in streams where stream.source.hasPrefix("kafka:") {
            if let exchange = BronzeExchange.allCases.first(where: { "kafka:" + $0.topic == stream.source }) { found.insert(exchange) }
        }
        if case .kafka(_, let topic) = configuration.origin,
           let exchange = BronzeExchange.allCases.first(where: { $0.topic == topic }) {
            found.insert(exchange)
        }
        return found.count == 1 ? found.first! : .binance
    }

    /// A dry run's plan: per ingestion day the rows and at least how many files, then the totals.
    private func planLines(_ appender: BronzeTableAppender, _ identifier: TableIdentifier, _ table: IcebergTarget) -> [String] {
        let target = Double(appender.targetFileSize)
        var totalFiles = 0
        var lines: [String] = []
        for day in appender.plannedRows.keys.sorted() {
            // Commits cut files too: at least one file per commit that touches the day.
            let bytes = Double(appender.plannedBytes[day] ?? 0)
            let files = Swift.max(Int((bytes / target).rounded(.up)), Swift.min(appender.commits, 1))
            totalFiles += files
            lines.append("plan: \(identifier) ingestion_date=\(IcebergValueText.date(day)): \(appender.plannedRows[day]!) rows, "
                  + "~\(Int(bytes) / 1024) KiB before compression, >= \(files) files")
        }
        lines.append("plan: \(appender.rowsCommitted) rows in \(appender.commits) commits (--commit-rows \(table.commitRows)), >= \(totalFiles) files")
        return lines
    }

    private func openCatalog(_ target: IcebergTarget) throws -> any Catalog {
        let opener = target.catalog
        // A REST catalog places new tables itself; a SQL catalog needs the warehouse to place them in.
        guard opener.warehouse != nil || (opener.catalog ?? "").hasPrefix("rest:") else {
            throw ReplayError.usage("""
                --to iceberg needs --warehouse (a directory, file:// URI or s3://BUCKET[/PREFIX]) and --catalog \
                (sqlite:PATH, postgresql://USER@HOST:PORT/DB or rest:http://HOST:PORT; see k2-replay replay --help)
                """)
        }
        do {
            return try runBlocking(stop: context.stop) { try await opener.open(create: true) }
        } catch let error as CatalogOpenError {
            throw ReplayError.unusable("\(error)")
        }
    }

    private func loadOrCreate(_ catalog: any Catalog, _ identifier: TableIdentifier, target: IcebergTarget,
                              exchange: BronzeExchange) throws -> Table {
        let style = target.style
        do {
            return try runBlocking(stop: context.stop) { try await catalog.loadTable(identifier) }
        } catch IcebergError.noSuchTable {
            guard target.create || configuration.dryRun else {
                throw ReplayError.usage("table \(identifier) does not exist in catalog \(catalog.name); add --create to create it as the \(style.rawValue) job did")
            }
        }
        if configuration.dryRun {
            // Plan against the definition --create would use; nothing is created.
            let metadata = TableMetadata.new(location: "(dry run)", schema: style.schema, spec: style.partitionSpec,
                                             sortOrder: .unsorted, properties: style.properties(exchange: exchange))
            return Table(identifier: identifier, metadata: metadata, metadataLocation: "(dry run)", io: LocalFileIO())
        }
        let created = try runBlocking(stop: context.stop) { () async throws -> Table in
            if !(try await catalog.listNamespaces().contains(identifier.namespace)) {
                do { try await catalog.createNamespace(identifier.namespace, properties: [:]) } catch IcebergError.namespaceAlreadyExists {}
            }
            do {
                return try await catalog.createTable(identifier, schema: style.schema, spec: style.partitionSpec, sortOrder: .unsorted,
                                                     properties: style.properties(exchange: exchange), location: nil)
            } catch IcebergError.tableAlreadyExists {
                return try await catalog.loadTable(identifier)   // another shard created it first
            }
        }
        context.note("created \(style.rawValue)-style table \(identifier) at \(created.metadata.location)")
        return created
    }
}

enum IcebergValueText {
    static func date(_ day: Int32) -> String { IcebergValue.date(day).description }
}
