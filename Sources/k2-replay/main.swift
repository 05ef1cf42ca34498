// k2-replay: the command line of the Replay library: segment logs or Kafka topic ranges into Kafka (K2's exact messages), Bronze tables or JSON lines. See docs/replay.md.
import ArgumentParser
import K2CLI

struct K2Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k2-replay",
        abstract: "Replay captured segment logs (or a Kafka topic range) into Kafka with K2's topics, keys and message values, or into Bronze Iceberg tables.",
        discussion: """
        `replay` is the default subcommand: `k2-replay --from DIR --to kafka --bootstrap HOST:PORT ...` runs it. All its options, with examples: `k2-replay help replay` (or `k2-replay replay --help`).

        Examples:
          k2-replay --from var/log --bootstrap localhost:9092 --schema-registry http://localhost:8081
          k2-replay --from var/log --to jsonl --data-only
          k2-replay embedded-kafka --brokers 3 --topic-partitions 6
          k2-replay burn-in --log var/burn-log --rate 5000 --duration 30m --report-dir var/burn-in
        More: docs/replay.md.
        """,
        version: ToolkitVersion.current,
        subcommands: [ReplayCommand.self, BurnInCommand.self, EmbeddedKafkaCommand.self, GenerateLogCommand.self],
        defaultSubcommand: ReplayCommand.self)
}

AllocatorTuning.keepFreedMemory()
ProgramMain.run(K2Replay.self)
