import Foundation
import K2Core

/// Where a catalog is, as typed after `--catalog`: a SQLite file, a PostgreSQL database (both holding the
/// JDBC catalog's tables) or an Iceberg REST catalog. Secrets are refused here: a password or token in
/// the address would end up in shell history, `ps` output and logs, so they come from the environment.
public enum CatalogAddress: Sendable, Equatable, CustomStringConvertible {
    /// `sqlite:PATH` (also `sqlite:///ABSOLUTE/PATH`).
    case sqlite(path: String)
    /// `postgresql://USER@HOST:PORT/DATABASE[?sslmode=...]` (also `postgres://`), without a password.
    case postgresql(uri: String)
    /// `rest:http(s)://HOST:PORT[/PATH]`: the catalog's base URI, to which `/v1/...` is appended.
    case rest(uri: String)

    /// The forms `--catalog` accepts and where their secrets come from, for the programs' `--help`.
    public static let forms = """
        Catalogs (--catalog):
          sqlite:PATH                     the embedded JDBC-schema catalog, a file
          postgresql://USER@HOST:PORT/DB  the JDBC catalog on PostgreSQL (also
                                          postgres://, ?sslmode=disable|prefer|
                                          require); password from PGPASSWORD only
          rest:http://HOST:PORT[/PATH]    an Iceberg REST catalog (K2:
                                          rest:http://iceberg-rest:8181); token
                                          from K2_ICEBERG_TOKEN, or OAuth2 client
                                          credentials K2_ICEBERG_CREDENTIAL=
                                          CLIENT_ID:SECRET (token endpoint
                                          <uri>/v1/oauth/tokens or
                                          K2_ICEBERG_OAUTH2_SERVER_URI)
        --catalog-name: the catalog_name in a SQL catalog (default: the one
        present, else k2).
        Warehouse (--warehouse): a directory, file:// URI or s3://BUCKET[/PREFIX]
        (K2: s3://warehouse).
        S3 and MinIO: endpoint from --s3-endpoint, else AWS_ENDPOINT_URL_S3 or
        AWS_ENDPOINT_URL (K2: http://minio:9000); region from --s3-region, else
        AWS_REGION or AWS_DEFAULT_REGION, else us-east-1; path-style addressing
        when an endpoint is set (--s3-path-style false: virtual-hosted).
        Credentials only from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and
        AWS_SESSION_TOKEN), never from options; no secret is ever printed.
        """

    public init(parsing text: String) throws {
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            if path.hasPrefix("///") { path = String(path.dropFirst(2)) }   // sqlite:///abs/path, SQLAlchemy's spelling
            guard !path.isEmpty else { throw CatalogOpenError("--catalog \(text): expected sqlite:PATH") }
            self = .sqlite(path: path)
        } else if PostgreSQLEndpoint.isPostgreSQL(text) {
            guard let components = URLComponents(string: text), components.host?.isEmpty == false else {
                throw CatalogOpenError("--catalog \(PostgreSQLEndpoint.redacted(text)): expected postgresql://USER@HOST:PORT/DATABASE")
            }
            if components.password != nil {
                throw CatalogOpenError("""
                    --catalog \(PostgreSQLEndpoint.redacted(text)): a password on the command line is refused; \
                    give postgresql://USER@HOST:PORT/DATABASE and set PGPASSWORD in the environment
                    """)
            }
            self = .postgresql(uri: text)
        } else if text.hasPrefix("rest:") {
            var base = String(text.dropFirst("rest:".count))
            while base.hasSuffix("/") { base.removeLast() }
            guard let components = URLComponents(string: base), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
                components.host?.isEmpty == false
            else {
                throw CatalogOpenError("--catalog \(Self.redacted(text)): expected rest:http://HOST:PORT[/PATH]")
            }
            if components.user != nil || components.password != nil {
                throw CatalogOpenError("""
                    --catalog \(Self.redacted(text)): credentials in the URI are refused; set K2_ICEBERG_TOKEN \
                    or K2_ICEBERG_CREDENTIAL=CLIENT_ID:SECRET in the environment
                    """)
            }
            if components.query != nil || components.fragment != nil {
                throw CatalogOpenError("--catalog \(Self.redacted(text)): a REST catalog URI takes no ?query or #fragment")
            }
            self = .rest(uri: base)
        } else {
            throw CatalogOpenError("""
                --catalog \(Self.redacted(text)): expected sqlite:PATH, postgresql://USER@HOST:PORT/DATABASE \
                or rest:http://HOST:PORT
                """)
        }
    }

    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgresql(let uri): return PostgreSQLEndpoint.redacted(uri)
        case .rest(let uri): return "rest:\(uri)"
        }
    }

    /// `text` with the user-info part of any `scheme://user:secret@host` replaced, for error messages
    /// about addresses that were refused or could not be parsed.
    public static func redacted(_ text: String) -> String { URLUserInfo.redacted(text) }
}

/// A catalog or warehouse that cannot be opened as given: the message names the option and the address
/// (with any secret replaced by `***`).
public struct CatalogOpenError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
