import Foundation
import Iceberg
import TestSupport
import XCTest

/// A table whose metadata, manifests and data files live on S3 (moto on loopback, signatures checked),
/// written through S3FileIO and read back by pyiceberg with its own S3 client.
final class S3TableTests: XCTestCase {
    func testPyicebergReadsOurTableOnS3() async throws {
        let moto = try MotoS3()
        defer { moto.stop() }
        try moto.createBucket("warehouse")
        let database = moto.directory.appendingPathComponent("catalog.db").path
        let io = try moto.fileIO()
        let catalog = try await SQLCatalog.open(
            connection: try SQLiteConnection(path: database), name: "k2", warehouse: "s3://warehouse", io: io)
        try await catalog.createNamespace(["market_data"], properties: [:])
        var table = try await catalog.createTable(
            RemoteFixtures.table, schema: RemoteFixtures.schema(), spec: .unpartitioned, sortOrder: .unsorted,
            properties: RemoteFixtures.properties, location: nil)
        XCTAssertTrue(table.metadataLocation.hasPrefix("s3://warehouse/"), table.metadataLocation)
        table = try await RemoteFixtures.append(0..<120, writer: "s3", to: table, catalog: catalog)

        let expected = Dictionary(uniqueKeysWithValues: (Int64(0)..<120).map { ($0, "s3") })
        let script = """
            import os, sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            cat = SqlCatalog("k2", uri=sys.argv[1], warehouse="s3://warehouse", **{
                "s3.endpoint": os.environ["K2_S3_ENDPOINT"], "s3.region": "us-east-1",
                "s3.access-key-id": os.environ["AWS_ACCESS_KEY_ID"],
                "s3.secret-access-key": os.environ["AWS_SECRET_ACCESS_KEY"],
                "s3.force-virtual-addressing": "false"})
            sys.argv = [sys.argv[0], None, None, sys.argv[2], sys.argv[3]]
            \(RemoteFixtures.pythonPayload)

            """ + RemoteFixtures.pythonCheckRows
        let result = try ProcessRunner.run(
            TestEnvironment.python, ["-c", script, "sqlite:///" + database, "market_data.trades", RemoteFixtures.expectedJSON(expected)],
            environment: moto.checkerEnvironment)
        XCTAssertEqual(result.status, 0, result.stderrText)
        XCTAssertEqual(result.stdoutText.split(separator: "\n").last.map(String.init),
                       #"{"rows": 120, "snapshots": 1, "chain": 1, "total": "120"}"#)
        // The data file pyiceberg read is an s3:// object written by us.
        let listing = try moto.boto3("print(sum(1 for o in s3.list_objects_v2(Bucket='warehouse')['Contents'] if o['Key'].endswith('.parquet')))")
        XCTAssertEqual(listing.stdoutText, "1\n", listing.stderrText)
    }
}
