import Bronze
import Foundation
import Kafka
import TestSupport
import XCTest

/// `--schema-registry`: k2-replay registers K2's value schemas under the topic-name subjects and frames
/// every value with the id the registry gave (checked against the registry's own answer).
final class ReplaySchemaRegistryTests: XCTestCase {
    func testValuesCarryTheRegisteredSchemaIds() throws {
        let registry = try BackgroundProcess(TestEnvironment.python,
            [TestEnvironment.repositoryRoot.appendingPathComponent("scripts/schema_registry_stub.py").path])
        defer { registry.stop() }
        let url = String(try XCTUnwrap(registry.firstLine(), registry.log).dropFirst(4))
        // Another schema first, so the K2 ids are not simply 1 and 2.
        let client = SchemaRegistryClient(baseURL: URL(string: url)!)
        _ = try client.register(subject: "other-value", schema: #"{"type":"record","name":"X","fields":[{"name":"a","type":"long"}]}"#)

        let directory = try TestEnvironment.temporaryDirectory("replay-registry")
        defer { try? FileManager.default.removeItem(at: directory) }
        let fixture = try ReplayFixture.write(to: directory.path, binanceTrades: 30, krakenFrames: 10)
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        try cluster.createTopic("market.crypto.trades.binance.raw", partitions: 6)
        try cluster.createTopic("market.crypto.trades.kraken.raw", partitions: 6)
        let result = try ReplayProcess.run(["--from", directory.path, "--bootstrap", cluster.bootstrap, "--schema-registry", url,
                                            "--source", "binance,kraken", "--quiet",
                                            "--state-dir", directory.appendingPathComponent("state").path])
        XCTAssertEqual(result.status, 0, result.stderrText)
        let binanceId = try client.latestId(subject: "market.crypto.trades.binance.raw-value")
        let krakenId = try client.latestId(subject: "market.crypto.trades.kraken.raw-value")
        XCTAssertEqual(Set([binanceId, krakenId]).count, 2)
        XCTAssertFalse([binanceId, krakenId].contains(1))
        let consumed = try KafkaReadBack.kafkaPython(
            bootstrap: cluster.bootstrap, topics: ["market.crypto.trades.binance.raw", "market.crypto.trades.kraken.raw"],
            schemas: ["market.crypto.trades.binance.raw": BronzeSchemas.binanceRawTrade,
                      "market.crypto.trades.kraken.raw": BronzeSchemas.krakenRawTrade])
        XCTAssertEqual(consumed.count, fixture.expected.filter { $0.topic != "orders" }.count)
        for message in consumed {
            XCTAssertEqual(message.decoded?["_schema_id"] as? Int, Int(message.topic.contains("binance") ? binanceId : krakenId))
        }
    }
}
