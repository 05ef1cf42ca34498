import ArgumentParser
import Capture
import Foundation
import K2CLI

struct KafkaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka",
        abstract: "Back up a Kafka topic: every record's partition, offset, timestamp, key, headers and value.",
        discussion: """
        Source "kafka:<topic>", one stream per partition (named by its number). Partitions are assigned directly
        (no consumer group, nothing committed). Use this to save a K2 raw topic before its 7-day retention drops it.
        Resume: the log is the checkpoint. Started again on the same --out directory (after a stop, a crash or a
        kill -9), it continues each partition after the last offset the log kept, so each offset is kept once;
        --from-offset or --from-time start elsewhere instead.
        -X key=value passes settings to librdkafka (security.protocol, sasl.*, ssl.*); secrets belong in a
        config the shell reads from the environment, never in logs (k2-capture redacts them).

        Examples:
          k2-capture kafka --bootstrap localhost:9092 --topic market.crypto.trades.binance.raw --out /backup/binance --until-end
          k2-capture kafka --bootstrap b:9092 --topic t --partitions 0,3 --from-time 2024-02-09T00:00:00Z --until-time 2024-02-10 --out /b
          k2-capture kafka --bootstrap b:9093 --topic t --out /b -X security.protocol=SASL_SSL -X sasl.mechanism=SCRAM-SHA-512 \\
              -X sasl.username=$KAFKA_USER -X sasl.password=$KAFKA_PASSWORD
        """)

    @Option(help: "Bootstrap servers, HOST:PORT[,HOST:PORT].") var bootstrap: String
    @Option(help: "The topic to back up.") var topic: String
    @Option(help: "Partitions, comma-separated (default: all).") var partitions: String?
    @Option(help: "Start offset for every partition: a number, 'beginning' or 'end' (default: after the last offset the --out log already holds for each partition, else the beginning).") var fromOffset: String?
    @Option(help: "Start at the first record at or after this time (RFC 3339, date, epoch s or ms).") var fromTime: String?
    @Option(help: "Stop each partition before the first record at or after this time.") var untilTime: String?
    @Flag(help: "Stop each partition at its end as of the start.") var untilEnd = false
    @Option(name: .customShort("X"), parsing: .unconditionalSingleValue, help: "librdkafka setting key=value (repeatable).") var settings: [String] = []
    @OptionGroup var common: CommonOptions

    func run() throws {
        var kafka = KafkaCaptureRunner.Settings(bootstrap: bootstrap, topic: topic)
        kafka.passthrough = settings
        if let partitions {
            kafka.partitions = try partitions.split(separator: ",").map {
                guard let p = Int32($0.trimmingCharacters(in: .whitespaces)), p >= 0 else { throw ValidationError("--partitions \(partitions): not a list of partition numbers") }
                return p
            }
        }
        guard fromOffset == nil || fromTime == nil else { throw ValidationError("give --from-offset or --from-time, not both") }
        guard untilTime == nil || !untilEnd else { throw ValidationError("give --until-time or --until-end, not both") }
        if let fromOffset {
            switch fromOffset {
            case "beginning", "earliest": kafka.start = .beginning
            case "end", "latest": kafka.start = .end
            default:
                guard let offset = Int64(fromOffset), offset >= 0 else { throw ValidationError("--from-offset \(fromOffset): a number, beginning or end") }
                kafka.start = .offset(offset)
            }
        }
        if let fromTime {
            guard let nanos = TimeParser.epochNanoseconds(fromTime) else { throw ValidationError("--from-time \(fromTime) is not a time") }
            kafka.start = .time(epochMilliseconds: nanos / 1_000_000)
        }
        if let untilTime {
            guard let nanos = TimeParser.epochNanoseconds(untilTime) else { throw ValidationError("--until-time \(untilTime) is not a time") }
            kafka.until = .time(epochMilliseconds: nanos / 1_000_000)
        }
        if untilEnd { kafka.until = .end }
        let summary = KafkaCaptureRunner.run(kafka, options: try common.captureOptions())
        try finish(summary, json: common.json)
    }
}
