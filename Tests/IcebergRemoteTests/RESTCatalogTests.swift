import Foundation
import Iceberg
import TestSupport
import XCTest

/// RESTCatalog against the REST test server (pyiceberg's SqlCatalog behind the Iceberg REST API), with
/// pyiceberg reading the same SQLite catalog directly as the independent check.
final class RESTCatalogTests: XCTestCase {
    private var servers: [RESTCatalogServer] = []

    override func tearDown() {
        servers.forEach { $0.stop() }
        servers = []
    }

    private func server(prefix: String? = nil, environment: [String: String] = [:]) throws -> RESTCatalogServer {
        let server = try RESTCatalogServer(prefix: prefix, environment: environment)
        servers.append(server)
        return server
    }

    func testCreateLoadAppendThroughRESTAndPyicebergReadsIt() async throws {
        let server = try server(prefix: "k2")
        let catalog = try await RESTCatalog.connect(uri: server.uri, io: LocalFileIO(), environment: [:])
        XCTAssertEqual(catalog.prefix, "k2", "the prefix comes from /v1/config overrides")

        try await catalog.createNamespace(["market_data"], properties: ["owner": "k2"])
        let namespaces = try await catalog.listNamespaces()
        XCTAssertEqual(namespaces, [["market_data"]])
        var table = try await catalog.createTable(
            RemoteFixtures.table, schema: RemoteFixtures.schema(), spec: .unpartitioned, sortOrder: .unsorted,
            properties: RemoteFixtures.properties, location: nil)
        XCTAssertEqual(table.metadata.currentSchema.fields.map(\.name), ["id", "writer", "payload"])
        XCTAssertEqual(table.metadata.properties["write.parquet.compression-codec"], "zstd")
        let tables = try await catalog.listTables(namespace: ["market_data"])
        XCTAssertEqual(tables, [RemoteFixtures.table])

        table = try await RemoteFixtures.append(0..<200, writer: "first", to: table, catalog: catalog)
        table = try await RemoteFixtures.append(200..<250, writer: "second", to: table, catalog: catalog)
        let loaded = try await catalog.loadTable(RemoteFixtures.table)
        XCTAssertEqual(loaded.metadataLocation, table.metadataLocation)
        XCTAssertEqual(loaded.metadata.snapshots.count, 2)

        var expected: [Int64: String] = [:]
        for i in Int64(0)..<200 { expected[i] = "first" }
        for i in Int64(200)..<250 { expected[i] = "second" }
        let summary = try RemoteFixtures.pyiceberg(
            """
            props = cat.load_namespace_properties("market_data")
            assert props.get("owner") == "k2", props

            """ + RemoteFixtures.pythonCheckRows,
            catalogURI: server.sqlAlchemyURI, warehouse: server.warehouse,
            args: ["market_data.trades", RemoteFixtures.expectedJSON(expected)])
        XCTAssertEqual(summary, #"{"rows": 250, "snapshots": 2, "chain": 2, "total": "250"}"#)
    }

    /// pyiceberg's requirement checks decide: a commit built on a stale snapshot is refused with 409
    /// (our commitConflict), and FastAppend, given the same stale table, reloads and lands on top.
    func testStaleCommitIsAConflictAndFastAppendRetries() async throws {
        let server = try server()
        let catalog = try await RESTCatalog.connect(uri: server.uri, io: LocalFileIO(), environment: [:])
        XCTAssertNil(catalog.prefix)
        try await catalog.createNamespace(["market_data"], properties: [:])
        let created = try await catalog.createTable(
            RemoteFixtures.table, schema: RemoteFixtures.schema(), spec: .unpartitioned, sortOrder: .unsorted,
            properties: RemoteFixtures.properties, location: nil)
        let stale = try await RemoteFixtures.append(0..<10, writer: "one", to: created, catalog: catalog)
        _ = try await RemoteFixtures.append(10..<20, writer: "two", to: stale, catalog: catalog)

        do {
            _ = try await catalog.commitTable(
                stale, requirements: [.assertRefSnapshotId(ref: "main", snapshotId: stale.metadata.currentSnapshotId)],
                updates: [.setProperties(["k2.test": "stale"])])
            XCTFail("a commit on a stale snapshot succeeded")
        } catch IcebergError.commitConflict(let table, let message) {
            XCTAssertEqual(table, "market_data.trades")
            XCTAssertTrue(message.contains("main"), message)
        }
        do {
            _ = try await catalog.commitTable(
                stale, requirements: [.assertTableUUID("00000000-0000-0000-0000-000000000000")], updates: [])
            XCTFail("a commit with a wrong table UUID succeeded")
        } catch IcebergError.commitConflict(_, let message) {
            XCTAssertTrue(message.contains("UUID"), message)
        }

        _ = try await RemoteFixtures.append(20..<30, writer: "three", to: stale, catalog: catalog)
        let updated = try await catalog.commitTable(
            try await catalog.loadTable(RemoteFixtures.table), requirements: [],
            updates: [.setProperties(["k2.test": "yes", "k2.other": "x"]), .removeProperties(["k2.other"])])
        XCTAssertEqual(updated.metadata.properties["k2.test"], "yes")
        XCTAssertNil(updated.metadata.properties["k2.other"])

        var expected: [Int64: String] = [:]
        for i in Int64(0)..<10 { expected[i] = "one" }
        for i in Int64(10)..<20 { expected[i] = "two" }
        for i in Int64(20)..<30 { expected[i] = "three" }
        let rows = try RemoteFixtures.pyiceberg(
            RemoteFixtures.pythonCheckRows, catalogURI: server.sqlAlchemyURI, warehouse: server.warehouse,
            args: ["market_data.trades", RemoteFixtures.expectedJSON(expected)])
        XCTAssertEqual(rows, #"{"rows": 30, "snapshots": 3, "chain": 3, "total": "30"}"#)
    }

    func testMissingAndDuplicateNamesAreCatalogErrors() async throws {
        let server = try server()
        let catalog = try await RESTCatalog.connect(uri: server.uri, io: LocalFileIO(), environment: [:])
        try await catalog.createNamespace(["market_data"], properties: [:])
        do {
            try await catalog.createNamespace(["market_data"], properties: [:])
            XCTFail("duplicate namespace created")
        } catch IcebergError.namespaceAlreadyExists(let name) {
            XCTAssertEqual(name, "market_data")
        }
        do {
            _ = try await catalog.loadTable(TableIdentifier(namespace: ["market_data"], name: "absent"))
            XCTFail("loaded a missing table")
        } catch IcebergError.noSuchTable(let name) {
            XCTAssertEqual(name, "market_data.absent")
        }
        let exists = try await catalog.tableExists(TableIdentifier(namespace: ["market_data"], name: "absent"))
        XCTAssertFalse(exists)
        do {
            _ = try await catalog.createTable(
                TableIdentifier(namespace: ["nowhere"], name: "t"), schema: RemoteFixtures.schema(), spec: .unpartitioned,
                sortOrder: .unsorted, properties: [:], location: nil)
            XCTFail("created a table in a missing namespace")
        } catch IcebergError.noSuchNamespace(let name) {
            XCTAssertEqual(name, "nowhere")
        }
        _ = try await catalog.createTable(
            RemoteFixtures.table, schema: RemoteFixtures.schema(), spec: .unpartitioned, sortOrder: .unsorted,
            properties: [:], location: nil)
        do {
            _ = try await catalog.createTable(
                RemoteFixtures.table, schema: RemoteFixtures.schema(), spec: .unpartitioned, sortOrder: .unsorted,
                properties: [:], location: nil)
            XCTFail("duplicate table created")
        } catch IcebergError.tableAlreadyExists(let name) {
            XCTAssertEqual(name, "market_data.trades")
        }
    }

    func testBearerTokenFromEnvironment() async throws {
        let server = try server(environment: ["K2_REST_TEST_TOKEN": "token-for-tests"])
        do {
            _ = try await RESTCatalog.connect(uri: server.uri, io: LocalFileIO(), environment: [:])
            XCTFail("connected without the token")
        } catch let error as RESTCatalogError {
            XCTAssertEqual(error.status, 401)
            XCTAssertEqual(error.type, "NotAuthorizedException")
        }
        let catalog = try await RESTCatalog.connect(
            uri: server.uri, io: LocalFileIO(), environment: ["K2_ICEBERG_TOKEN": "token-for-tests"])
        try await catalog.createNamespace(["market_data"], properties: [:])
        let namespaces = try await catalog.listNamespaces()
        XCTAssertEqual(namespaces, [["market_data"]])
    }

    func testOAuth2ClientCredentials() async throws {
        let server = try server(environment: ["K2_REST_TEST_CLIENT": "k2-replay:client-secret"])
        let catalog = try await RESTCatalog.connect(
            uri: server.uri, io: LocalFileIO(), environment: ["K2_ICEBERG_CREDENTIAL": "k2-replay:client-secret"])
        try await catalog.createNamespace(["market_data"], properties: [:])
        let namespaces = try await catalog.listNamespaces()
        XCTAssertEqual(namespaces, [["market_data"]])
        XCTAssertFalse(server.process.log.contains("refused"), server.process.log)

        do {
            _ = try await RESTCatalog.connect(
                uri: server.uri, io: LocalFileIO(), environment: ["K2_ICEBERG_CREDENTIAL": "k2-replay:wrong-secret"])
            XCTFail("connected with a wrong client secret")
        } catch let error as RESTCatalogError {
            XCTAssertEqual(error.status, 401)
            XCTAssertTrue(error.description.contains("invalid_client"), error.description)
            XCTAssertFalse(error.description.contains("wrong-secret"))
        }
    }
}
