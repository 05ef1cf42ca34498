import Foundation
import K2Core

/// Opens the catalog the programs' `--catalog`, `--catalog-name`, `--warehouse` and `--s3-*` options name
/// (`CatalogAddress.forms`), with storage routed by location (`FileIOFactory`): local paths to the
/// filesystem, `s3://` to S3 or MinIO. Every secret (PGPASSWORD, K2_ICEBERG_TOKEN / K2_ICEBERG_CREDENTIAL,
/// AWS_SECRET_ACCESS_KEY) is read from `environment` only, and no error message carries one.
public struct CatalogOpener: Sendable {
    /// `--catalog`; nil means `sqlite:<warehouse>/catalog.db` for a local warehouse.
    public var catalog: String?
    /// `--catalog-name`: the `catalog_name` in a SQL catalog, the name shown for a REST catalog.
    public var catalogName: String?
    /// `--warehouse`: a directory, `file://` URI or `s3://bucket[/prefix]`; where a SQL catalog places new
    /// tables, and the `warehouse` a REST catalog is asked for in `/v1/config`.
    public var warehouse: String?
    /// `--s3-endpoint`, `--s3-region`, `--s3-path-style`: override the environment's S3 settings.
    public var s3Endpoint: String?
    public var s3Region: String?
    public var s3PathStyle: Bool?
    public var environment: [String: String]

    public init(
        catalog: String?, catalogName: String? = nil, warehouse: String? = nil, s3Endpoint: String? = nil,
        s3Region: String? = nil, s3PathStyle: Bool? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) {
        self.catalog = catalog
        self.catalogName = catalogName
        self.warehouse = warehouse
        self.s3Endpoint = s3Endpoint
        self.s3Region = s3Region
        self.s3PathStyle = s3PathStyle
        self.environment = environment
    }

    /// `--catalog` as safe to print (any password replaced), or what it defaults to.
    public var catalogDescription: String {
        (try? address().description) ?? catalog.map(CatalogAddress.redacted) ?? "(none)"
    }

    /// The warehouse as a location URI: directories become `file://` URIs; nil without `--warehouse`.
    public func warehouseURI() throws -> String? {
        guard let warehouse, !warehouse.isEmpty else { return nil }
        if S3Location.isS3(warehouse) {
            let bucket = warehouse.drop(while: { $0 != ":" }).dropFirst(3).prefix(while: { $0 != "/" })
            guard !bucket.isEmpty else { throw CatalogOpenError("--warehouse \(warehouse): expected s3://BUCKET[/PREFIX]") }
            var uri = warehouse
            while uri.hasSuffix("/") { uri.removeLast() }
            return uri
        }
        if warehouse.hasPrefix("file:") {
            _ = try LocalFileIO.path(of: warehouse)   // rejects file://host/... forms it cannot serve
            return warehouse
        }
        if warehouse.contains("://") {
            throw CatalogOpenError("--warehouse \(CatalogAddress.redacted(warehouse)): expected a directory, file:// URI or s3://BUCKET[/PREFIX]")
        }
        return URL(fileURLWithPath: warehouse).standardizedFileURL.absoluteString
    }

    /// The catalog address, with the default `sqlite:<warehouse>/catalog.db` for a local warehouse.
    public func address() throws -> CatalogAddress {
        try refuseCredentialsInStorageAddresses()
        if let catalog, !catalog.isEmpty { return try CatalogAddress(parsing: catalog) }
        guard let warehouse = try warehouseURI() else {
            throw CatalogOpenError("no --catalog: give --catalog sqlite:PATH, postgresql://USER@HOST:PORT/DB or rest:http://HOST:PORT")
        }
        guard !S3Location.isS3(warehouse) else {
            throw CatalogOpenError("--warehouse \(warehouse) is on S3: name the catalog too (--catalog postgresql://... or rest:http://...)")
        }
        return .sqlite(path: try LocalFileIO.path(of: warehouse) + "/catalog.db")
    }

    /// A warehouse or S3 endpoint with user info (`s3://KEY:SECRET@bucket`, `http://KEY:SECRET@minio:9000`)
    /// is refused before anything prints or uses it: S3 keys come from AWS_ACCESS_KEY_ID and
    /// AWS_SECRET_ACCESS_KEY only. The environment's endpoint variables are checked as the option is.
    func refuseCredentialsInStorageAddresses() throws {
        let named = [("--warehouse", warehouse), ("--s3-endpoint", s3Endpoint),
                     ("AWS_ENDPOINT_URL_S3", environment["AWS_ENDPOINT_URL_S3"]), ("AWS_ENDPOINT_URL", environment["AWS_ENDPOINT_URL"])]
        for case let (name, value?) in named where URLUserInfo.of(value) != nil {
            throw CatalogOpenError("""
                \(name) \(URLUserInfo.redacted(value)): credentials in the URL are refused; set AWS_ACCESS_KEY_ID and \
                AWS_SECRET_ACCESS_KEY in the environment
                """)
        }
    }

    /// Storage for every location a table names, local or S3 (credentials checked when S3 is first used).
    public func fileIO() -> any FileIO {
        FileIOFactory.make(s3Endpoint: s3Endpoint, s3Region: s3Region, s3PathStyle: s3PathStyle, environment: environment)
    }

    /// Opens the catalog. Without `create` (a check) nothing is written: a SQLite file must exist and a SQL
    /// database must already hold the catalog's tables, so a read-only role suffices; with it (a replay)
    /// a new catalog is started when missing. A SQL catalog without `--warehouse` can load tables but not
    /// create them.
    public func open(create: Bool = false) async throws -> any Catalog {
        let address = try address()
        let warehouse = try warehouseURI()
        let io = fileIO()
        switch address {
        case .sqlite(let path):
            if !create && !FileManager.default.fileExists(atPath: path) {
                throw CatalogOpenError("--catalog \(address): no such file \(path)")
            }
            do {
                return try await SQLCatalog.open(
                    connection: try SQLiteConnection(path: path, readOnly: !create), name: catalogName, warehouse: warehouse ?? "", io: io,
                    createTables: create)
            } catch {
                throw CatalogOpenError("--catalog \(address): \(error)")
            }
        case .postgresql(let uri):
            do {
                let connection = try PostgreSQLConnection(uri: uri, environment: environment)
                return try await SQLCatalog.open(
                    connection: connection, name: catalogName, warehouse: warehouse ?? "", io: io, createTables: create)
            } catch {
                let hint = (environment["PGPASSWORD"] ?? "").isEmpty ? " (PGPASSWORD is not set)" : ""
                throw CatalogOpenError("--catalog \(address): \(error)\(hint)")
            }
        case .rest(let uri):
            do {
                return try await RESTCatalog.connect(
                    uri: uri, name: catalogName ?? "rest", warehouse: warehouse, io: io, environment: environment)
            } catch {
                throw CatalogOpenError("--catalog \(address): \(error)")
            }
        }
    }
}
