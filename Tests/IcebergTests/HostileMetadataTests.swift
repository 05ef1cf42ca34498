import Avro
import Foundation
import TestSupport
import XCTest
@testable import Iceberg

/// Table metadata no writer produces but a reader may be handed (fixtures/hostile/): refused with the file
/// and the reason, never read as something it is not, never a trap.
final class HostileMetadataTests: XCTestCase {
    func load(_ name: String) throws -> TableMetadata {
        let url = TestEnvironment.repositoryRoot.appendingPathComponent("fixtures/hostile/\(name)")
        return try TableMetadata(json: try JSONValue.parse(Array(try Data(contentsOf: url))), location: url.path)
    }

    /// A `current-snapshot-id` naming no snapshot read as an empty table: k2-verify reported every row
    /// missing, and an append gave up after 8 "commit conflicts".
    func testCurrentSnapshotIdNamingNoSnapshotIsRefused() {
        XCTAssertThrowsError(try load("metadata-current-snapshot-missing.json")) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("current-snapshot-id 1111 names no snapshot") && text.contains("metadata-current-snapshot-missing.json"), text)
        }
    }

    /// A field id of 2^63-1 made an append trap (Parquet field ids are 32-bit).
    func testFieldIdBeyondThirtyTwoBitsIsRefused() {
        XCTAssertThrowsError(try load("metadata-field-id-2^63-1.json")) { error in
            XCTAssertTrue("\(error)".contains("offset has id 9223372036854775807"), "\(error)")
        }
    }
}
