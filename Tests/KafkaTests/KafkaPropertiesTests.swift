import Kafka
import XCTest

/// librdkafka properties from `-X` and `K2_KAFKA_*` variables: credentials only from the environment.
final class KafkaPropertiesTests: XCTestCase {
    func testEnvironmentThenCommandLineAndCredentialsRefusedOnTheCommandLine() throws {
        let environment = ["K2_KAFKA_SASL_PASSWORD": "s3cret", "K2_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "HOME": "/root"]
        let merged = try KafkaProperties.merged(commandLine: ["security.protocol=SASL_PLAINTEXT", "sasl.username=backup"],
                                                environment: environment)
        XCTAssertEqual(merged.map { "\($0.key)=\($0.value)" }, ["sasl.password=s3cret", "security.protocol=SASL_PLAINTEXT", "sasl.username=backup"])
        for key in ["sasl.password", "ssl.key.password", "ssl.keystore.password", "sasl.oauthbearer.client.secret", "ssl.key.pem"] {
            XCTAssertThrowsError(try KafkaProperties.merged(commandLine: ["\(key)=s3cret"], environment: [:])) { error in
                XCTAssertTrue("\(error)".contains(KafkaProperties.environmentVariable(for: key)), "\(error)")
                XCTAssertFalse("\(error)".contains("s3cret"), "\(error)")
            }
        }
        XCTAssertEqual(KafkaProperties.environmentVariable(for: "sasl.password"), "K2_KAFKA_SASL_PASSWORD")
        XCTAssertEqual(KafkaProperties.property(forEnvironmentVariable: "K2_KAFKA_SSL_KEY_PASSWORD"), "ssl.key.password")
        XCTAssertNil(KafkaProperties.property(forEnvironmentVariable: "KAFKA_PASSWORD"))
        XCTAssertThrowsError(try KafkaProperties.merged(commandLine: ["novalue"], environment: [:]))
        let config = try KafkaProperties.config(commandLine: [], environment: environment, defaults: [("bootstrap.servers", "b:9092")])
        XCTAssertEqual(config["bootstrap.servers"], "b:9092")
        XCTAssertFalse(config.redactedDescription.contains("s3cret"))
    }
}
