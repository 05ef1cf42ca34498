import K2Core
import Bronze
import Foundation
import Kafka
import SegmentLog

/// `--to iceberg`: each record becomes the Bronze row(s) K2's job would have written for the Kafka record(s)
/// K2 would have produced, appended through `BronzeTableAppender` in commits that record the progress.
///
/// - Exchange frames: `raw_bytes` is the value `--to kafka --format …` sends (same encoder), `topic` K2's
///   topic, `partition` K2's partitioner over the key with `--topic-partitions`, `offset` null (no Kafka offset
///   exists), `kafka_timestamp` the CreateTime `--to kafka` gives (the receive time, ms).
/// - Kafka records (a topic read directly, or a log captured from Kafka): their own value, topic,
///   partition, offset and timestamp.
/// - `ingestion_timestamp`: the replay's clock, read once per commit (as a streaming job stamps a
///   micro-batch), or with `--ingestion-time capture` the record's receive time.
///
/// Progress: the last log sequence per stream (`source/stream`); for a topic read directly
/// (`offsetsAsProgress`) the stream is the partition and the progress its offset.
///
/// The state touched per record is `@exclusivity(unchecked)`: the sink is used from one thread and no access
/// overlaps another, and the runtime's dynamic check of each class-property access was ~5% of a replay.
final class IcebergSink: ReplaySink {
    let appender: BronzeTableAppender
    @exclusivity(unchecked) private var encoder: BronzeRecordEncoder
    private let partitions: Int32
    /// Where a row's `ingestion_timestamp` comes from.
    enum IngestionClock {
        /// The replay's clock, read once per commit: a backfill of history writes a commit's rows at once.
        case commit
        /// The replay's clock, read for each row: a follow backfill of live data stamps a row when it reads it,
        /// as a streaming job does (a stamp per commit would precede the Kafka time of the commit's later rows).
        case row
        /// The record's receive time in the capture (`--ingestion-time capture`).
        case capture
    }
    private let ingestionClock: IngestionClock
    private let commitRows: Int
    private let commitNanos: Int64
    private let pacer: Pacer
    private let offsetsAsProgress: Bool
    private let stop: CancellationSignal
    private let diagnostics: ReplayDiagnostics
    private var lastCommitNanos = Pacer.monotonicNanos()
    @exclusivity(unchecked) private var batchIngestionMicros: Int64?
    @exclusivity(unchecked) private var sinceCheck = 0
    private var notTrade = 0
    private var malformed = 0
    private var unknownSources = Set<String>()
    @exclusivity(unchecked) private var rows = 0
    /// Records of a log captured from Kafka outside these offsets are passed over (`--offsets` on such a log).
    var kafkaOffsets: PartitionOffsetRanges?
    /// Rows staged so far by this run.
    var rowsWritten: Int { rows }
    /// Progress per stream since the last commit; turned into the appender's string keys at commit time,
    /// so the per-record path builds no strings.
    @exclusivity(unchecked) private var done = StreamSlots<Int64>()
    private let binanceTopic = BronzeExchange.binance.topic
    private let krakenTopic = BronzeExchange.kraken.topic
    /// K2's partition of each key seen (a replay sees the same few symbols over and over).
    @exclusivity(unchecked) private var keyPartitions: [String: Int32] = [:]
    @exclusivity(unchecked) private var lastKafkaSource = ""
    @exclusivity(unchecked) private var lastKafkaTopic = ""
    /// The source of the record being encoded, for `skipHandler`.
    @exclusivity(unchecked) private var currentSource = ""
    /// Counts the frames the encoder passes over; made once, not per record (a closure capturing the record
    /// would be allocated for every call).
    @exclusivity(unchecked) private var skipHandler: ((BronzeSkipReason, Error?) -> Void)?

    init(appender: BronzeTableAppender, format: BronzeValueFormat, schemaIds: [BronzeExchange: Int32], partitions: Int32,
         ingestionClock: IngestionClock, commitRows: Int, commitSeconds: Double, pacer: Pacer, offsetsAsProgress: Bool = false,
         stop: CancellationSignal, diagnostics: @escaping ReplayDiagnostics) {
        self.offsetsAsProgress = offsetsAsProgress
        self.stop = stop
        self.diagnostics = diagnostics
        self.appender = appender
        encoder = BronzeRecordEncoder(format: format, schemaIds: schemaIds)
        self.partitions = partitions
        self.ingestionClock = ingestionClock
        self.commitRows = max(1, commitRows)
        commitNanos = Int64(commitSeconds * 1e9)
        self.pacer = pacer
        skipHandler = { [unowned self] reason, _ in
            switch reason {
            case .notATrade: notTrade += 1
            case .malformed: malformed += 1
            case .unknownSource: unknownSources.insert(currentSource)
            }
        }
    }

    /// The first keys seen, searched before the dictionary: the encoder hands out the same String for a key,
    /// and comparing a few small strings is cheaper than hashing one.
    @exclusivity(unchecked) private var recentKeys: [String] = []
    @exclusivity(unchecked) private var recentPartitions: [Int32] = []

    private func partition(of key: String) -> Int32? {
        for index in recentKeys.indices where recentKeys[index] == key { return recentPartitions[index] }
        if let known = keyPartitions[key] { return known }
        guard let partition = K2Partitioner.partition(key: key, partitionCount: partitions) else { return nil }
        if recentKeys.count < 16 {
            recentKeys.append(key)
            recentPartitions.append(partition)
        } else if keyPartitions.count < 100_000 {
            keyPartitions[key] = partition
        }
        return partition
    }

    static func progressKey(_ key: StreamKey) -> String { "\(key.source)/\(key.stream)" }

    private func ingestionMicros(receiveTimeNanos: Int64) -> Int64 {
        switch ingestionClock {
        case .commit: return batchIngestion()
        case .row: return Self.wallClockMicros()
        case .capture: return receiveTimeNanos / 1000
        }
    }

    /// The replay's clock, read once per commit.
    private func batchIngestion() -> Int64 {
        if let micros = batchIngestionMicros { return micros }
        let micros = Self.wallClockMicros()
        batchIngestionMicros = micros
        return micros
    }

    private static func wallClockMicros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }

    func write(_ record: LogRecord) throws -> Int {
        guard record.kind == .data else { return 0 }
        return try record.payload.withUnsafeBytes { payload in
            try write(source: record.source, stream: record.stream, payload: payload, receiveTimeNanos: record.receiveTimeNanos,
                      sequence: record.sequence, kafka: record.kafka)
        }
    }

    /// `write` of a record as a view of the read-ahead chunk (`PrefetchingLogReader.next(view:)`), whose
    /// stream index names one of `readerStreams` (set first): the frame is read where it lies.
    func write(view: LogRecordView) throws -> Int {
        guard view.kind == .data else { return 0 }
        let index = view.streamIndex
        if let topic = kafkaTopicOfStream[index] { return try writeKafka(view, topic: topic, stream: index) }
        let key = readerStreams[index]
        return try write(source: key.source, stream: key.stream, payload: view.payload, receiveTimeNanos: view.receiveTimeNanos,
                         sequence: view.sequence, kafka: view.kafka)
    }

    /// The streams of the reader whose views `write(view:)` gets, by stream index.
    var readerStreams: [StreamKey] = [] {
        didSet {
            kafkaTopicOfStream = readerStreams.map { $0.source.hasPrefix("kafka:") ? String($0.source.dropFirst("kafka:".count)) : nil }
            kafkaDone = Array(repeating: nil, count: readerStreams.count)
        }
    }
    /// Per reader stream: its topic when it holds Kafka records (`kafka:TOPIC`), and the position done since the
    /// last commit. Worked out once, so a Kafka record costs no string comparison (a topic backfill's hot path).
    private var kafkaTopicOfStream: [String?] = []
    @exclusivity(unchecked) private var kafkaDone: [Int64?] = []

    /// A Kafka record seen as a view: its row staged as it is (the value is the Kafka value), its stream's progress
    /// kept by stream index.
    @inline(__always)
    private func writeKafka(_ view: LogRecordView, topic: String, stream index: Int) throws -> Int {
        guard let kafka = view.kafka else {
            throw ReplayError.failed("\(readerStreams[index]) sequence \(view.sequence): Kafka record without coordinates")
        }
        if let kafkaOffsets, !kafkaOffsets.contains(partition: kafka.partition, offset: kafka.offset) { return 0 }
        pacer.awaitTurn(receiveTimeNanos: view.receiveTimeNanos) { _ in }
        try appender.append(rawBytes: view.payload, topic: topic,
                            partition: kafka.partition, offset: kafka.offset, kafkaTimestampMicros: kafka.timestampMs * 1000,
                            ingestionTimestampMicros: ingestionMicros(receiveTimeNanos: view.receiveTimeNanos))
        kafkaDone[index] = offsetsAsProgress ? kafka.offset : Int64(bitPattern: view.sequence)
        rows += 1
        try afterRows()
        return 1
    }

    /// What both `write`s do with a data record: its rows staged, its stream's progress noted.
    private func write(source: String, stream: String, payload: UnsafeRawBufferPointer, receiveTimeNanos: Int64,
                       sequence: UInt64, kafka: @autoclosure () -> KafkaCoordinates?) throws -> Int {
        var made = 0
        var position = Int64(bitPattern: sequence)
        if source.hasPrefix("kafka:") {
            guard let kafka = kafka() else {
                throw ReplayError.failed("\(source)/\(stream) sequence \(sequence): Kafka record without coordinates")
            }
            if let kafkaOffsets, !kafkaOffsets.contains(partition: kafka.partition, offset: kafka.offset) { return 0 }
            pacer.awaitTurn(receiveTimeNanos: receiveTimeNanos) { _ in }
            if source != lastKafkaSource {
                lastKafkaSource = source
                lastKafkaTopic = String(source.dropFirst("kafka:".count))
            }
            try appender.append(rawBytes: payload, topic: lastKafkaTopic,
                                partition: kafka.partition, offset: kafka.offset, kafkaTimestampMicros: kafka.timestampMs * 1000,
                                ingestionTimestampMicros: ingestionMicros(receiveTimeNanos: receiveTimeNanos))
            if offsetsAsProgress { position = kafka.offset }
            made = 1
        } else {
            let ingestion = ingestionMicros(receiveTimeNanos: receiveTimeNanos)
            currentSource = source
            made = try encoder.encode(source: source, stream: stream, payload: payload,
                                      receiveTimeNanos: receiveTimeNanos, skip: skipHandler) { view in
                guard let partition = partition(of: view.key) else {
                    throw ReplayError.failed("\(source)/\(stream) sequence \(sequence): empty key")
                }
                pacer.awaitTurn(receiveTimeNanos: receiveTimeNanos) { _ in }
                try appender.append(rawBytes: view.value, topic: view.exchange == .binance ? binanceTopic : krakenTopic,
                                    partition: partition, offset: nil,
                                    kafkaTimestampMicros: receiveTimeNanos / 1_000_000 * 1000,
                                    ingestionTimestampMicros: ingestion)
            }
        }
        try recordDone(source: source, stream: stream, position: position, rows: made)
        return made
    }

    /// After a record's rows are staged: its progress, the hand-off of full batches, a commit when due.
    @inline(__always)
    private func recordDone(source: String, stream: String, position: Int64, rows made: Int) throws {
        rows += made
        if let slot = done.slot(source: source, stream: stream) { done[slot] = position }
        else { _ = done.add(StreamKey(source: source, stream: stream), position) }
        try afterRows()
    }

    /// The hand-off of full batches, and a commit when due.
    @inline(__always)
    private func afterRows() throws {
        if appender.hasFullBatches { try runBlocking(stop: stop) { [appender] in try await appender.writeStaged() } }
        sinceCheck += 1
        if appender.rowsBuffered >= commitRows || (sinceCheck >= 64 && dueByTime()) {
            try commit()
        }
    }

    private func dueByTime() -> Bool {
        sinceCheck = 0
        return appender.rowsBuffered > 0 && Pacer.monotonicNanos() - lastCommitNanos >= commitNanos
    }

    /// Commits the buffered rows with the progress so far (also called by the Kafka source while idle).
    func commit() throws {
        for (key, position) in zip(done.keys, done.values) { appender.markDone(Self.progressKey(key), position) }
        done.removeAll()
        for index in kafkaDone.indices {
            if let position = kafkaDone[index] { appender.markDone(Self.progressKey(readerStreams[index]), position) }
            kafkaDone[index] = nil
        }
        try runBlocking(stop: stop) { [appender] in try await appender.commit() }
        lastCommitNanos = Pacer.monotonicNanos()
        batchIngestionMicros = nil
    }

    /// Commits when rows wait longer than `--commit-seconds` (a source calls this when idle).
    func idle() throws {
        if dueByTime() { try commit() }
    }

    func finish() throws {
        try commit()
        if !unknownSources.isEmpty {
            diagnostics(ReplayNote(.warning, "warning: records of unknown sources not replayed: \(unknownSources.sorted().joined(separator: ", "))"))
        }
        if malformed > 0 {
            diagnostics(ReplayNote(.warning, "warning: \(malformed) malformed frames not replayable as \(encoder.format.rawValue)"))
        }
    }

    var progressNote: String { "\(appender.commits) commits, \(appender.rowsBuffered) rows pending" }

    var summary: [String: SummaryValue] {
        ["table": .string(appender.table.identifier.description),
         "style": .string(appender.style.rawValue),
         "rows": .int(rows),
         "rows_committed": .int(Int(appender.rowsCommitted)),
         "commits": .int(appender.commits),
         "files": .int(appender.filesCommitted),
         "run_id": .string(appender.progress.runId),
         "run_rows_total": .int(Int(appender.progress.rows)),
         "frames_not_trades": .int(notTrade),
         "frames_malformed": .int(malformed)]
    }
}
