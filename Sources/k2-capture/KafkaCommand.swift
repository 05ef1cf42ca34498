import ArgumentParser
import Capture
import Foundation
import K2CLI
import Kafka

struct KafkaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Back up a Kafka topic: every record's partition, offset, timestamp, key, headers and value.",
        discussion: """
        Source "kafka:<topic>", one stream per partition (named by its number). Partitions are assigned directly \
        (no consumer group, nothing committed). Use this to save a K2 raw topic before its 7-day retention drops it.

        Resume: the log is the checkpoint. Started again on the same --out directory (after a stop, a crash or a \
        kill -9), it continues each partition after the last offset the log kept, so each offset is kept once; \
        --from-offset or --since start elsewhere instead. --since (inclusive) and --until (exclusive) compare \
        record timestamps, given as RFC 3339, a date (midnight UTC), or epoch seconds or milliseconds.

        librdkafka properties: -X key=value, or the environment variable K2_KAFKA_<KEY> (the key upper-cased, \
        "." as "_"; -X wins when both give one). Credentials (sasl.password, ssl.key.password, \
        ssl.keystore.password, sasl.oauthbearer.client.secret, ssl.key.pem) come from the environment only: -X \
        with one is refused, since ps, shell history and logs see arguments. librdkafka's own log lines are \
        written as k2-capture's JSON log lines (event "kafka").

        Examples:
          k2-capture kafka --bootstrap localhost:9092 --topic market.crypto.trades.binance.raw --out /backup/binance --until-end
          k2-capture kafka --bootstrap localhost:9092 --topic market.crypto.trades.binance.raw --partitions 0,3,5 --since 2024-02-09T00:00:00Z --until 2024-02-10 --out /backup/binance-2024-02-09
          k2-capture kafka --bootstrap localhost:9092 --topic market.crypto.trades.binance.raw --offsets 0:10-19,3:10-19 --until-end --out /backup/binance-gap
          K2_KAFKA_SASL_PASSWORD="$KAFKA_PASSWORD" k2-capture kafka --bootstrap b:9093 --topic t --out /b -X security.protocol=SASL_SSL -X sasl.mechanism=SCRAM-SHA-512 -X sasl.username=backup
        """)

    @Option(help: ArgumentHelp("Bootstrap servers.", valueName: "host:port[,host:port]")) var bootstrap: String
    @Option(help: "The topic to back up.") var topic: String
    @Option(help: ArgumentHelp("Partitions: numbers and ranges (0,3,5-7); all when not given.", valueName: "list"))
    var partitions: PartitionSelection?
    @Option(help: ArgumentHelp("Start offset for every partition: earliest, latest or an offset (--offsets N- in short). Without it (or --offsets, --since), each partition continues after the last offset the --out log holds, else at the earliest.", valueName: "earliest|latest|n"))
    var fromOffset: String?
    @Option(help: ArgumentHelp(OffsetRangesArgument.offsetsHelp + " A range without LAST is followed (until --until-end, --until or a stop); a partition the --out log holds offsets of continues after the last one kept.", valueName: "ranges"))
    var offsets: String?
    @Option(help: ArgumentHelp("Start each partition at its first record with a timestamp at or after this time.", valueName: "time"))
    var since: String?
    @Option(help: ArgumentHelp("Stop each partition before its first record with a timestamp at or after this time.", valueName: "time"))
    var until: String?
    @Flag(help: "Stop each partition at its end as of the start.") var untilEnd = false
    @Option(name: .customShort("X"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("librdkafka property (repeatable); credentials only from K2_KAFKA_<KEY> variables.", valueName: "key=value"))
    var settings: [String] = []
    // The spellings before issue 15, refused with the one to use.
    @Option(name: .customLong("from-time"), help: .hidden) var fromTime: String?
    @Option(name: .customLong("until-time"), help: .hidden) var untilTime: String?
    @OptionGroup var common: CommonOptions

    func run() throws {
        if fromTime != nil { throw ValidationError("--from-time is now --since") }
        if untilTime != nil { throw ValidationError("--until-time is now --until") }
        do { try CommandLineAddress.refuseCredentials(inBrokers: bootstrap, option: "--bootstrap") } catch { throw ValidationError("\(error)") }
        var kafka = KafkaCaptureRunner.Settings(bootstrap: bootstrap, topic: topic)
        do {
            kafka.properties = try KafkaProperties.merged(commandLine: settings)
        } catch let error as KafkaError {
            throw ValidationError(error.message)
        }
        kafka.partitions = partitions?.partitions
        guard (fromOffset == nil && offsets == nil) || since == nil else { throw ValidationError("give --offsets, --from-offset or --since, not more than one") }
        guard until == nil || !untilEnd else { throw ValidationError("give --until or --until-end, not both") }
        if let fromOffset { kafka.start = try Self.startOffset(fromOffset) }
        if offsets != nil {
            do {
                kafka.start = .ranges(try OffsetRangesArgument.parse(offsets: offsets, fromOffset: fromOffset)!)
            } catch let error as UsageError { throw ValidationError(error.description) }
        }
        if let since {
            guard let nanos = TimeParser.epochNanoseconds(since) else { throw ValidationError("--since \(since) is not a time (RFC 3339, a date, epoch s or ms)") }
            kafka.start = .time(epochMilliseconds: nanos / 1_000_000)
        }
        if let until {
            guard let nanos = TimeParser.epochNanoseconds(until) else { throw ValidationError("--until \(until) is not a time (RFC 3339, a date, epoch s or ms)") }
            kafka.until = .time(epochMilliseconds: nanos / 1_000_000)
        }
        if untilEnd { kafka.until = .end }
        kafka.logHandler = KafkaCaptureRunner.log
        let summary = KafkaCaptureRunner.run(kafka, options: try common.captureOptions())
        try CaptureExit.finish(summary, json: common.json)
    }

    /// `earliest`, `latest` or an offset; the spellings `beginning` and `end` are refused with the one to use.
    static func startOffset(_ text: String) throws -> KafkaCaptureRunner.Start {
        switch text {
        case "earliest": return .earliest
        case "latest": return .latest
        case "beginning": throw ValidationError("--from-offset beginning: write --from-offset earliest")
        case "end": throw ValidationError("--from-offset end: write --from-offset latest")
        default:
            guard let offset = Int64(text), offset >= 0 else { throw ValidationError("--from-offset \(text): expected earliest, latest or an offset") }
            return .offset(offset)
        }
    }
}
