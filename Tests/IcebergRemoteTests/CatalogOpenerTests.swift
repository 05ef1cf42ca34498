import Foundation
import TestSupport
import XCTest

@testable import Iceberg

/// The programs' one way to open a catalog and its storage: `--catalog` forms and their refusals, the
/// warehouse forms, and FileIOFactory's routing of locations to the local filesystem or to S3 (moto, with
/// boto3 reading the objects back).
final class CatalogOpenerTests: XCTestCase {
    func testCatalogAddressForms() throws {
        XCTAssertEqual(try CatalogAddress(parsing: "sqlite:var/catalog.db"), .sqlite(path: "var/catalog.db"))
        XCTAssertEqual(try CatalogAddress(parsing: "sqlite:///tmp/c.db"), .sqlite(path: "/tmp/c.db"))
        XCTAssertEqual(try CatalogAddress(parsing: "postgresql://iceberg@postgres:5432/iceberg"),
                       .postgresql(uri: "postgresql://iceberg@postgres:5432/iceberg"))
        XCTAssertEqual(try CatalogAddress(parsing: "postgres://iceberg@postgres/iceberg?sslmode=require"),
                       .postgresql(uri: "postgres://iceberg@postgres/iceberg?sslmode=require"))
        XCTAssertEqual(try CatalogAddress(parsing: "rest:http://iceberg-rest:8181/"), .rest(uri: "http://iceberg-rest:8181"))
        XCTAssertEqual(try CatalogAddress(parsing: "rest:https://catalog.example/api/catalog"),
                       .rest(uri: "https://catalog.example/api/catalog"))

        // Secrets on the command line are refused, and the message does not repeat them.
        for (text, secret, hint) in [
            ("postgresql://iceberg:s3cr3t-pw@postgres:5432/iceberg", "s3cr3t-pw", "PGPASSWORD"),
            ("rest:http://user:t0ken-xyz@iceberg-rest:8181", "t0ken-xyz", "K2_ICEBERG_TOKEN"),
        ] {
            XCTAssertThrowsError(try CatalogAddress(parsing: text)) { error in
                let message = "\(error)"
                XCTAssertFalse(message.contains(secret), message)
                XCTAssertTrue(message.contains(hint), message)
                XCTAssertTrue(message.contains("***"), message)
            }
        }
        for bad in ["mysql://x@y/z", "rest:ftp://host", "rest:http://", "sqlite:", "rest:http://h:1?token=x", "postgresql://"] {
            XCTAssertThrowsError(try CatalogAddress(parsing: bad), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("--catalog "), "\(error)")
            }
        }
        XCTAssertEqual(CatalogAddress.redacted("s3://key:secret@bucket/x"), "s3://***@bucket/x")
        XCTAssertEqual(CatalogAddress.redacted("http://host/a@b"), "http://host/a@b")
    }

    func testWarehouseFormsAndDefaultCatalog() throws {
        let directory = try TestEnvironment.temporaryDirectory("opener")
        defer { try? FileManager.default.removeItem(at: directory) }
        let local = CatalogOpener(catalog: nil, warehouse: directory.path + "/wh/../wh", environment: [:])
        XCTAssertEqual(try local.warehouseURI(), "file://" + directory.path + "/wh")
        XCTAssertEqual(try local.address(), .sqlite(path: directory.path + "/wh/catalog.db"))
        XCTAssertEqual(try CatalogOpener(catalog: nil, warehouse: "s3://warehouse/", environment: [:]).warehouseURI(), "s3://warehouse")
        XCTAssertEqual(try CatalogOpener(catalog: nil, warehouse: "s3a://warehouse/bronze", environment: [:]).warehouseURI(),
                       "s3a://warehouse/bronze")
        XCTAssertThrowsError(try CatalogOpener(catalog: nil, warehouse: "s3://warehouse", environment: [:]).address()) {
            XCTAssertTrue("\($0)".contains("name the catalog"), "\($0)")
        }
        XCTAssertThrowsError(try CatalogOpener(catalog: nil, warehouse: "s3:///x", environment: [:]).warehouseURI())
        XCTAssertThrowsError(try CatalogOpener(catalog: nil, warehouse: "hdfs://nn/warehouse", environment: [:]).warehouseURI())
    }

    func testSQLiteCatalogMustExistUnlessCreating() async throws {
        let directory = try TestEnvironment.temporaryDirectory("opener")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("catalog.db").path
        let opener = CatalogOpener(catalog: "sqlite:" + path, warehouse: directory.path, environment: [:])
        do {
            _ = try await opener.open(create: false)
            XCTFail("a missing catalog file was opened")
        } catch {
            XCTAssertEqual("\(error)", "--catalog sqlite:\(path): no such file \(path)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        let catalog = try await opener.open(create: true)
        try await catalog.createNamespace(["market_data"], properties: [:])
        let table = try await catalog.createTable(
            RemoteFixtures.table, schema: RemoteFixtures.schema(), spec: .unpartitioned, sortOrder: .unsorted,
            properties: RemoteFixtures.properties, location: nil)
        XCTAssertEqual(table.metadata.location, "file://" + directory.path + "/market_data/trades")
        XCTAssertTrue(table.io is RoutingFileIO)

        // Without --warehouse a SQL catalog still loads tables, but refuses to place new ones.
        let reader = try await CatalogOpener(catalog: "sqlite:" + path, environment: [:]).open()
        let loaded = try await reader.loadTable(RemoteFixtures.table)
        XCTAssertEqual(loaded.metadataLocation, table.metadataLocation)
        do {
            _ = try await reader.createTable(
                TableIdentifier(namespace: ["market_data"], name: "other"), schema: RemoteFixtures.schema(), spec: .unpartitioned,
                sortOrder: .unsorted, properties: [:], location: nil)
            XCTFail("a table was placed without a warehouse")
        } catch {
            XCTAssertTrue("\(error)".contains("give --warehouse"), "\(error)")
        }
    }

    func testFileIOFactoryRoutesLocalAndS3Locations() async throws {
        let moto = try MotoS3()
        defer { moto.stop() }
        try moto.createBucket("routing")
        let environment = ["AWS_ACCESS_KEY_ID": moto.credentials.accessKeyId,
                           "AWS_SECRET_ACCESS_KEY": moto.credentials.secretAccessKey, "AWS_REGION": "eu-west-1"]
        let io = FileIOFactory.make(s3Endpoint: moto.endpoint, s3Region: "us-east-1", environment: environment)
        let routing = try XCTUnwrap(io as? RoutingFileIO)
        let s3 = try routing.s3.get()
        XCTAssertEqual(s3.configuration.endpoint, moto.endpoint)
        XCTAssertEqual(s3.configuration.region, "us-east-1", "--s3-region wins over AWS_REGION")
        XCTAssertTrue(s3.configuration.pathStyle, "an endpoint means path-style (MinIO)")

        // Local: a file:// URI and a plain path land on disk, where FileManager reads them.
        let local = moto.directory.appendingPathComponent("local/a.bin").path
        try await io.write("file://" + local, contents: [1, 2, 3, 4])
        XCTAssertEqual(FileManager.default.contents(atPath: local), Data([1, 2, 3, 4]))
        let plain = moto.directory.appendingPathComponent("local/b.bin").path
        try await io.write(plain, contents: [9, 8])
        let plainBack = try await io.read(plain)
        XCTAssertEqual(plainBack, [9, 8])
        let localLength = try await io.length("file://" + local)
        XCTAssertEqual(localLength, 4)

        // S3 (and its Hadoop spellings): objects in the bucket, read back by boto3.
        let payload = (0..<3000).map { UInt8(($0 * 31) & 0xFF) }
        try await io.write("s3://routing/data/c.bin", contents: payload)
        let fetched = try moto.boto3("sys.stdout.write(s3.get_object(Bucket='routing', Key='data/c.bin')['Body'].read().hex())")
        XCTAssertEqual(fetched.status, 0, fetched.stderrText)
        XCTAssertEqual(fetched.stdoutText, payload.map { String(format: "%02x", $0) }.joined())
        let range = try await io.read("s3a://routing/data/c.bin", offset: 1000, length: 5)
        XCTAssertEqual(range, Array(payload[1000..<1005]))
        let exists = try await io.exists("s3n://routing/data/c.bin")
        XCTAssertTrue(exists)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "/routing/data/c.bin"), "an s3:// location never goes to disk")
        try await io.delete("s3://routing/data/c.bin")
        let existsAfterDelete = try await io.exists("s3://routing/data/c.bin")
        XCTAssertFalse(existsAfterDelete)

        // Without credentials, local locations still work and S3 ones name what is missing, and where.
        let bare = FileIOFactory.make(s3Endpoint: moto.endpoint, environment: [:])
        try await bare.write(plain, contents: [7])
        let bareBack = try await bare.read(plain)
        XCTAssertEqual(bareBack, [7])
        do {
            _ = try await bare.read("s3://routing/data/x.bin")
            XCTFail("S3 without credentials")
        } catch let error as FileIOError {
            XCTAssertEqual(error.kind, .permissionDenied)
            XCTAssertEqual(error.location, "s3://routing/data/x.bin")
            XCTAssertTrue(error.message.contains("AWS_ACCESS_KEY_ID"), error.message)
        }
        let virtual = FileIOFactory.make(s3Endpoint: moto.endpoint, s3PathStyle: false, environment: environment)
        XCTAssertFalse(try XCTUnwrap(virtual as? RoutingFileIO).s3.get().configuration.pathStyle)
    }

    func testRESTCatalogUnderABasePathWithATokenFromTheEnvironment() async throws {
        let token = "tok-" + UUID().uuidString
        let server = try RESTCatalogServer(prefix: "k2", basePath: "/api/catalog", environment: ["K2_REST_TEST_TOKEN": token])
        defer { server.stop() }
        XCTAssertTrue(server.uri.hasSuffix("/api/catalog"))
        let catalog = try await CatalogOpener(catalog: server.uri + "/", environment: ["K2_ICEBERG_TOKEN": token]).open()
        XCTAssertTrue(catalog is RESTCatalog)
        try await catalog.createNamespace(["market_data"], properties: [:])
        let namespaces = try await catalog.listNamespaces()
        XCTAssertEqual(namespaces, [["market_data"]])
        // pyiceberg's SqlCatalog behind the server sees the namespace our client created.
        let seen = try RemoteFixtures.pyiceberg("print(cat.list_namespaces())", catalogURI: server.sqlAlchemyURI,
                                                warehouse: server.warehouse)
        XCTAssertEqual(seen, "[('market_data',)]")

        do {
            _ = try await CatalogOpener(catalog: server.uri, environment: [:]).open()
            XCTFail("opened without the token")
        } catch {
            XCTAssertTrue("\(error)".hasPrefix("--catalog \(server.uri): "), "\(error)")
            XCTAssertTrue("\(error)".contains("HTTP 401"), "\(error)")
        }
    }

    func testHelpTeachesTheCatalogForms() throws {
        for (product, arguments) in [("k2-verify", ["--help"]), ("k2-replay", ["replay", "--help"])] {
            let help = try ProcessRunner.run(TestEnvironment.productPath(product), arguments)
            XCTAssertEqual(help.status, 0, help.stderrText)
            for needle in ["sqlite:PATH", "postgresql://USER@HOST:PORT/DB", "PGPASSWORD", "rest:http://HOST:PORT",
                           "K2_ICEBERG_TOKEN", "K2_ICEBERG_CREDENTIAL", "s3://BUCKET", "--s3-endpoint", "AWS_ACCESS_KEY_ID",
                           "AWS_SECRET_ACCESS_KEY", "--warehouse"] {
                XCTAssertTrue(help.stdoutText.contains(needle), "\(product) --help lacks \(needle)")
            }
        }
    }
}
