import Foundation

/// The parts of a `postgresql://user[:password]@host[:port]/database[?sslmode=...]` URI other than the
/// password, which `parse` hands back separately so it never ends up in a description or a log line.
public struct PostgreSQLEndpoint: Sendable, Hashable, CustomStringConvertible {
    public enum SSLMode: String, Sendable { case disable, prefer, require }

    public let user: String
    public let host: String
    public let port: Int
    public let database: String
    public let sslMode: SSLMode

    public static func isPostgreSQL(_ uri: String) -> Bool {
        uri.hasPrefix("postgresql://") || uri.hasPrefix("postgres://")
    }

    /// Parses `uri`; the user defaults to `PGUSER` or `postgres`, the host to `localhost`, the port to 5432,
    /// the database to the user name (libpq's defaults).
    public static func parse(
        _ uri: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> (PostgreSQLEndpoint, password: String?) {
        guard isPostgreSQL(uri), let components = URLComponents(string: uri) else {
            throw SQLError(statement: "(connect)", message: "not a postgresql://user@host:port/database URI: \(redacted(uri))")
        }
        let user = components.user.flatMap { $0.removingPercentEncoding } ?? environment["PGUSER"] ?? "postgres"
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "localhost"
        let port = components.port ?? 5432
        var database = components.path
        if database.hasPrefix("/") { database.removeFirst() }
        database = database.removingPercentEncoding ?? database
        if database.isEmpty { database = user }
        var sslMode = SSLMode.disable
        for item in components.queryItems ?? [] where item.name == "sslmode" {
            switch item.value ?? "" {
            case "disable", "allow": sslMode = .disable
            case "prefer": sslMode = .prefer
            case "require", "verify-ca", "verify-full": sslMode = .require
            default:
                throw SQLError(statement: "(connect)", message: "unknown sslmode \(item.value ?? "") in \(redacted(uri))")
            }
        }
        let endpoint = PostgreSQLEndpoint(user: user, host: host, port: port, database: database, sslMode: sslMode)
        return (endpoint, components.password.flatMap { $0.removingPercentEncoding })
    }

    public var description: String { "postgresql://\(user)@\(host):\(port)/\(database)" }

    /// `uri` with any password replaced by `***`, for error messages.
    public static func redacted(_ uri: String) -> String {
        guard var components = URLComponents(string: uri) else { return "(unparseable URI)" }
        guard components.password != nil else { return uri }
        components.password = "***"
        return components.string ?? "postgresql://***"
    }
}
