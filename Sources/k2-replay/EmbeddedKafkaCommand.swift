import ArgumentParser
import Bronze
import Foundation
import Glibc
import K2CLI
import Kafka
import Replay

struct EmbeddedKafkaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embedded-kafka",
        abstract: "Serve librdkafka's mock Kafka cluster on loopback until SIGTERM/SIGINT.",
        discussion: """
        Prints `bootstrap=HOST:PORT,...` as the first line of stdout, then serves. Topics are created with --topic-partitions partitions; any other topic is auto-created on first use. The cluster keeps data in memory only: it is gone when the process exits.

        Examples:
          k2-replay embedded-kafka --brokers 3 --topic-partitions 6
          k2-replay embedded-kafka --topics market.crypto.trades.binance.raw,test.topic
        """)

    @Option(help: "Number of brokers.") var brokers: Int = 3
    @Option(name: .customLong("topic-partitions"), help: "Partitions of each created topic.") var topicPartitions: Int32 = 6
    @Option(help: "Comma-separated topics to create.")
    var topics: String = BronzeExchange.allCases.map(\.topic).joined(separator: ",")

    func run() throws {
        let cluster: EmbeddedKafkaCluster
        do {
            cluster = try EmbeddedKafkaCluster(brokers: brokers)
            for topic in topics.split(separator: ",") where !topic.isEmpty {
                try cluster.createTopic(String(topic), partitions: topicPartitions)
            }
        } catch {
            throw ProgramFailure("\(error)", code: .unusable)
        }
        print("bootstrap=\(cluster.bootstrap)")
        fflush(stdout)
        let stop = StopSignal()
        let signals = StopOnSignals(stop)
        while !stop.isRequested { usleep(100_000) }
        withExtendedLifetime((cluster, signals)) {}
    }
}
