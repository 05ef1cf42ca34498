import Bronze
import Foundation
import Iceberg
import K2CLI
import Kafka
import SegmentLog

/// `k2-replay --from SOURCE --to iceberg`: the segment log or Kafka topic range into a Bronze table.
///
/// Exactly once: every commit carries `k2.replay.*` progress keys (`BronzeReplayProgress`) under a run id
/// derived from the arguments that pick the rows (source, selection, table, style, shard, value format).
/// The same commit sets them as the run's table properties (`k2.replay.<run-id>.*`), which survive the
/// expiry of the run's snapshots; a rerun with the same arguments reads them (or, for runs recorded before
/// them, the table's history) and resumes after them; replays with other arguments (other sources, other shards) have other run ids and commit
/// independently (FastAppend retries on conflicts).
struct IcebergReplay {
    let command: ReplayCommand

    private var options: IcebergOptions { command.iceberg }

    func run() throws {
        do {
            try replay()
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
            throw ReplayError.unusable("catalog \(options.catalogOpener.catalogDescription): \(error)")
        }
    }

    private func replay() throws {
        guard let style = options.tableStyle else { throw ReplayError.usage("--style must be spark or flink") }
        guard let tableName = options.table else { throw ReplayError.usage("--to iceberg needs --table market_data.NAME") }
        let identifier = try TableIdentifier(tableName)
        let origin = try ReplayOrigin(argument: command.from)
        let (shardIndex, shardCount) = try options.shardParts()
        let valueFormat = BronzeValueFormat(rawValue: command.format)!

        // The run id: everything that decides which rows this run writes where.
        var idParts = ["table=\(identifier)", "style=\(style.rawValue)", "shard=\(shardIndex)/\(shardCount)"]
        var legacyIdParts: [String] = []
        var sourceDescription: String
        var selectedStreams: [StreamKey] = []
        switch origin {
        case .segmentLog(let directory):
            sourceDescription = directory
            idParts += ["log=\(directory)", "source=\(command.source ?? "")", "symbols=\(command.symbols ?? "")",
                        "since=\(command.since ?? "")", "until=\(command.until ?? "")", "format=\(command.format)",
                        "partitions=\(command.partitions)"]
            selectedStreams = try SegmentLogReader.streams(in: directory).filter { key in
                let selection = command.selection()
                return (selection.sources?.contains(key.source) ?? true) && (selection.streams?.contains(key.stream) ?? true)
            }.filter { Self.shardOf($0, count: shardCount) == shardIndex }
        case .kafka(let bootstrap, let topic):
            legacyIdParts = idParts
            sourceDescription = "kafka://\(bootstrap)/\(topic)"
            // The cluster is named by its id, not by the address as typed: `localhost:9092` and
            // `127.0.0.1:9092` are one cluster and one run. Times count by the instant they name.
            let clusterId = try Self.clusterId(bootstrap: bootstrap, properties: command.properties)
            func instant(_ text: String?) -> String {
                text.map { TimeParser.epochNanoseconds($0).map(String.init) ?? $0 } ?? ""
            }
            idParts += ["kafka-cluster=\(clusterId)", "topic=\(topic)", "from-offset=\(options.fromOffset)",
                        "from-time=\(instant(options.fromTime))", "until-time=\(instant(options.untilTime))"]
            legacyIdParts += ["kafka=\(sourceDescription)", "from-offset=\(options.fromOffset)", "from-time=\(options.fromTime ?? "")",
                              "until-time=\(options.untilTime ?? "")"]
        }
        var runId = BronzeReplayProgress.runId(idParts)

        let catalog = try openCatalog()
        let table = try loadOrCreate(catalog, identifier, style: style)
        _ = try style.checkSchema(of: table)
        var previous = try BronzeReplayProgress.latest(in: table, runId: runId)
        if previous == nil, !legacyIdParts.isEmpty {
            // A run begun before run ids named the cluster by id resumes under the id it started with.
            let legacy = BronzeReplayProgress.runId(legacyIdParts)
            if let found = try BronzeReplayProgress.latest(in: table, runId: legacy) {
                previous = found
                runId = legacy
            }
        }
        let progress = previous ?? BronzeReplayProgress(runId: runId, source: sourceDescription)
        if let previous, !command.quiet {
            StandardError.note("resuming run \(runId): \(previous.rows) rows in \(previous.commits) commits already in \(identifier)")
        }
        let appender = try BronzeTableAppender(catalog: catalog, table: table, style: style, progress: progress, writes: !command.dryRun)
        appender.extraSummary = ["k2.replay.style": style.rawValue]

        if appender.offsetRequired, let stream = selectedStreams.first(where: { !$0.source.hasPrefix("kafka:") }) {
            throw ReplayError.usage("""
                table \(identifier) requires column offset (a Flink-style Bronze table: every column is required), \
                but \(stream) was captured from the exchange and has no Kafka offsets. Replay the log into Kafka \
                first (k2-replay --to kafka) and backfill from the topic (--from kafka://HOST:PORT/TOPIC), or write \
                a Spark-style table (--style spark), whose offset column is optional.
                """)
        }

        let pacing: Pacer.Mode
        if let rate = command.rate { pacing = .rate(perSecond: rate, burst: Swift.max(1, command.burst ?? rate / 100)) }
        else if let speed = command.speed { pacing = .speed(speed) }
        else { pacing = .unpaced }
        let schemaIds: [BronzeExchange: Int32]
        if !selectedStreams.contains(where: { BronzeExchange(source: $0.source) != nil }) {
            schemaIds = [:]   // only Kafka records: their values are replayed as they are
        } else if command.dryRun, command.schemaId == nil, command.schemaRegistry == nil {
            schemaIds = [.binance: 0, .kraken: 0]
        } else {
            schemaIds = try command.resolveSchemaIds(valueFormat, streams: selectedStreams)
        }
        let sink = IcebergSink(appender: appender, format: valueFormat, schemaIds: schemaIds, partitions: command.partitions,
                               captureTime: options.ingestionTime == .capture, commitRows: options.commitRows,
                               commitSeconds: options.commitSeconds, pacer: Pacer(mode: pacing))
        let progressLine = ProgressReporter(total: nil, enabled: !command.quiet && !command.dryRun)
        var records = 0

        switch origin {
        case .segmentLog(let directory):
            var selection = command.selection()
            selection.kinds = [.data]
            selection.streams = Set(selectedStreams.map(\.stream))
            for key in selectedStreams {
                if let done = progress.done[IcebergSink.progressKey(key)] {
                    selection.resumeAfter[key] = UInt64(bitPattern: done)
                }
            }
            let reader = try SegmentLogReader(directory: directory, selection: selection,
                                              diagnostics: { StandardError.note("log: \($0)") })
            progressLine.total = reader.plannedRecordCount
            var messages = 0
            // The log is read (decompressed, decoded) on another thread, a few thousand records ahead; only
            // records of the selected streams come out.
            let prefetch = PrefetchingLogReader(reader: reader, streams: selectedStreams)
            defer { prefetch.stop() }
            // Each record is read as a view of the chunk it was read into (no copy before its row is staged).
            sink.readerStreams = selectedStreams
            while !Signals.shouldStop, try prefetch.next(view: { view in messages += try sink.write(view: view) }) {
                records += 1
                if records & 255 == 0 { progressLine.tick(records: records, messages: messages, note: sink.progressNote) }
            }
        case .kafka(let bootstrap, let topic):
            var config = KafkaConfig()
            for property in command.properties {
                do { try config.apply(passthrough: property) } catch { throw ReplayError.usage("\(error)") }
            }
            config.set("bootstrap.servers", bootstrap)
            let source = KafkaTopicSource(
                config: config, topic: topic, fromOffset: options.fromOffset,
                fromTimeMs: options.fromTime.flatMap(TimeParser.epochNanoseconds).map { $0 / 1_000_000 },
                untilTimeMs: options.untilTime.flatMap(TimeParser.epochNanoseconds).map { $0 / 1_000_000 },
                shard: (shardIndex, shardCount))
            records = try source.run(into: sink, appender: appender, quiet: command.quiet, progress: progressLine)
        }
        if Signals.shouldStop { StandardError.note("interrupted after \(records) records: committing what was read") }
        try sink.finish()

        if command.dryRun { printPlan(appender, identifier) }
        if command.json {
            var summary = sink.summary
            summary["records_read"] = .int(records)
            summary["seconds"] = .double((progressLine.elapsedSeconds * 1000).rounded() / 1000)
            summary["interrupted"] = .int(Signals.shouldStop ? 1 : 0)
            summary["dry_run"] = .int(command.dryRun ? 1 : 0)
            try JSONReport.write(summary, program: "k2-replay", format: 1)
        } else if !command.quiet {
            StandardError.note("done: \(records) records, \(appender.rowsCommitted) rows in \(appender.commits) commits "
                               + "(\(appender.filesCommitted) files) into \(identifier) in \(String(format: "%.1f", progressLine.elapsedSeconds)) s")
        }
    }

    /// The id of the Kafka cluster at `bootstrap` (with the `-X` properties, for security settings).
    static func clusterId(bootstrap: String, properties: [String]) throws -> String {
        var config = KafkaConfig()
        for property in properties {
            do { try config.apply(passthrough: property) } catch { throw ReplayError.usage("\(error)") }
        }
        config.set("bootstrap.servers", bootstrap)
        let consumer = try KafkaConsumer(config: config)
        guard let id = consumer.clusterId() else {
            throw ReplayError.unusable("Kafka at \(bootstrap) reports no cluster id, which names this backfill's run")
        }
        return id
    }

    /// The shard of a stream: FNV-1a of `source/stream`, so shares do not depend on which streams exist.
    static func shardOf(_ key: StreamKey, count: Int) -> Int {
        guard count > 1 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.source.utf8 + [0] + key.stream.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int(hash % UInt64(count))
    }

    private func printPlan(_ appender: BronzeTableAppender, _ identifier: TableIdentifier) {
        let target = Double(appender.targetFileSize)
        var totalFiles = 0
        for day in appender.plannedRows.keys.sorted() {
            // Commits cut files too: at least one file per commit that touches the day.
            let bytes = Double(appender.plannedBytes[day] ?? 0)
            let files = Swift.max(Int((bytes / target).rounded(.up)), Swift.min(appender.commits, 1))
            totalFiles += files
            print("plan: \(identifier) ingestion_date=\(IcebergValueText.date(day)): \(appender.plannedRows[day]!) rows, "
                  + "~\(Int(bytes) / 1024) KiB before compression, >= \(files) files")
        }
        print("plan: \(appender.rowsCommitted) rows in \(appender.commits) commits (--commit-rows \(options.commitRows)), >= \(totalFiles) files")
    }

    private func openCatalog() throws -> any Catalog {
        let opener = options.catalogOpener
        // A REST catalog places new tables itself; a SQL catalog needs the warehouse to place them in.
        guard opener.warehouse != nil || (opener.catalog ?? "").hasPrefix("rest:") else {
            throw ReplayError.usage("""
                --to iceberg needs --warehouse (a directory, file:// URI or s3://BUCKET[/PREFIX]) and --catalog \
                (sqlite:PATH, postgresql://USER@HOST:PORT/DB or rest:http://HOST:PORT; see k2-replay replay --help)
                """)
        }
        do {
            return try runBlocking { try await opener.open(create: true) }
        } catch let error as CatalogOpenError {
            throw ReplayError.unusable("\(error)")
        }
    }

    private func loadOrCreate(_ catalog: any Catalog, _ identifier: TableIdentifier, style: BronzeTableStyle) throws -> Table {
        do {
            return try runBlocking { try await catalog.loadTable(identifier) }
        } catch IcebergError.noSuchTable {
            guard options.create || command.dryRun else {
                throw ReplayError.usage("table \(identifier) does not exist in catalog \(catalog.name); add --create to create it as the \(style.rawValue) job did")
            }
        }
        let exchange: BronzeExchange = identifier.name.contains("kraken") ? .kraken : .binance
        if command.dryRun {
            // Plan against the definition --create would use; nothing is created.
            let metadata = TableMetadata.new(location: "(dry run)", schema: style.schema, spec: style.partitionSpec,
                                             sortOrder: .unsorted, properties: style.properties(exchange: exchange))
            return Table(identifier: identifier, metadata: metadata, metadataLocation: "(dry run)", io: LocalFileIO())
        }
        let created = try runBlocking { () async throws -> Table in
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
        if !command.quiet { StandardError.note("created \(style.rawValue)-style table \(identifier) at \(created.metadata.location)") }
        return created
    }
}

enum IcebergValueText {
    static func date(_ day: Int32) -> String { IcebergValue.date(day).description }
}
