import ArgumentParser
import Iceberg

/// The catalog and storage options k2-replay (`--to iceberg`) and k2-verify (table sides) share, so both
/// programs name a catalog the same way (`CatalogAddress.forms`). Secrets never come from here: passwords,
/// tokens and S3 keys are read from the environment by `CatalogOpener`.
public struct CatalogOptions: ParsableArguments {
    @Option(help: "The Iceberg catalog: sqlite:PATH, postgresql://USER@HOST:PORT/DB (password from PGPASSWORD) or rest:http://HOST:PORT[/PATH] (token from K2_ICEBERG_TOKEN or K2_ICEBERG_CREDENTIAL). Default: sqlite:<warehouse>/catalog.db for a local warehouse.")
    public var catalog: String?

    @Option(name: .customLong("catalog-name"), help: "The catalog_name in a SQL catalog (default: the one present, else k2).")
    public var catalogName: String?

    @Option(help: "The warehouse: a directory, file:// URI or s3://BUCKET[/PREFIX] (credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY). New tables are placed there; a REST catalog is asked for it in /v1/config; existing tables are read where their metadata says.")
    public var warehouse: String?

    @Option(name: .customLong("s3-endpoint"), help: "S3-compatible endpoint, e.g. http://minio:9000 (default: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, else AWS).")
    public var s3Endpoint: String?

    @Option(name: .customLong("s3-region"), help: "S3 region (default: AWS_REGION or AWS_DEFAULT_REGION, else us-east-1).")
    public var s3Region: String?

    @Option(name: .customLong("s3-path-style"), help: "true or false: path-style S3 addressing (default: true when an endpoint is set, as MinIO needs).")
    public var s3PathStyle: Bool?

    public init() {}

    /// The catalog these options name, opened by the library's one catalog opener.
    public var opener: CatalogOpener {
        CatalogOpener(catalog: catalog, catalogName: catalogName, warehouse: warehouse, s3Endpoint: s3Endpoint,
                      s3Region: s3Region, s3PathStyle: s3PathStyle)
    }
}
