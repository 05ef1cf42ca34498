import K2Core
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
        Prints `bootstrap=HOST:PORT,...` as the first line of stdout, then serves. With --port, clients can also bootstrap through 127.0.0.1:PORT (kcat's and Kafka's tools' usual localhost:9092): the brokers themselves stay on the loopback ports the mock picked, which their metadata names. Topics are created with --topic-partitions partitions; any other topic is auto-created on first use. The cluster keeps data in memory only: it is gone when the process exits.

        Examples:
          k2-replay embedded-kafka --brokers 3 --topic-partitions 6
          k2-replay embedded-kafka --port 9092
          k2-replay embedded-kafka --topics market.crypto.trades.binance.raw,test.topic
        """)

    @Option(help: "Number of brokers.") var brokers: Int = 3
    @Option(name: .customLong("topic-partitions"), help: "Partitions of each created topic.") var topicPartitions: Int32 = 6
    @Option(help: "Also accept bootstrap connections on 127.0.0.1:PORT (e.g. 9092).") var port: Int?
    @Option(help: "Comma-separated topics to create.")
    var topics: String = BronzeExchange.allCases.map(\.topic).joined(separator: ",")

    func run() throws {
        if let port, !(1...65_535).contains(port) { throw UsageError("--port \(port): expected 1 to 65535") }
        // Before the cluster starts its threads: they inherit the blocked SIGINT/SIGTERM that InterruptSignals
        // reads (a thread started earlier would take the signal and, its disposition changed, drop it).
        let stop = CancellationSignal()
        let signals = InterruptSignals(cancelling: stop)
        let cluster: EmbeddedKafkaCluster
        var forwarder: BootstrapForwarder?
        do {
            cluster = try EmbeddedKafkaCluster(brokers: brokers)
            for topic in topics.split(separator: ",") where !topic.isEmpty {
                try cluster.createTopic(String(topic), partitions: topicPartitions)
            }
            if let port {
                forwarder = try BootstrapForwarder(port: port, target: String(cluster.bootstrap.split(separator: ",")[0]))
            }
        } catch {
            throw ProgramFailure("\(error)", code: .unusable)
        }
        print("bootstrap=\(forwarder.map { "localhost:\($0.port)," } ?? "")\(cluster.bootstrap)")
        fflush(stdout)
        while !stop.isCancelled { usleep(100_000) }
        withExtendedLifetime((cluster, signals, forwarder)) {}
    }
}
