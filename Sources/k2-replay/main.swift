// k2-replay: replays segment logs into Kafka (K2's exact messages) or as JSON lines. See docs/replay.md.
import ArgumentParser

struct K2Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k2-replay",
        abstract: "Replay captured segment logs into Kafka with K2's topics, keys and message values.",
        subcommands: [ReplayCommand.self, EmbeddedKafkaCommand.self, GenerateLogCommand.self],
        defaultSubcommand: ReplayCommand.self)
}

K2Replay.main()
