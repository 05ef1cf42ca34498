import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// `SQLConnection` to PostgreSQL (the database behind K2's JDBC catalog), on postgres-nio.
///
/// Opened from `postgresql://user@host:port/database` (also `postgres://`); the password comes from
/// `PGPASSWORD` when set, else from the URI. `?sslmode=disable|prefer|require` picks TLS (default:
/// disable). The connection is opened on first use and reopened for the next statement after the server
/// closed it; statements run one at a time, in the order they were issued, and none is ever re-sent.
public actor PostgreSQLConnection: SQLConnection {
    public nonisolated var dialect: SQLDialect { .postgresql }

    /// Where the connection goes, without the password: safe to print.
    public nonisolated let endpoint: PostgreSQLEndpoint
    private let password: String?
    private var connection: PostgresConnection?
    private var connecting: Task<PostgresConnection, Error>?
    private var nextConnectionID = 1
    private let logger = Logger(label: "k2.iceberg.postgresql")

    public init(uri: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        let (endpoint, uriPassword) = try PostgreSQLEndpoint.parse(uri)
        self.endpoint = endpoint
        self.password = environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 } ?? uriPassword
    }

    public func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [[String: SQLValue]] {
        let result = try await run(sql, parameters)
        return try result.rows.map { row in
            var values: [String: SQLValue] = [:]
            for cell in row.makeRandomAccess() {
                values[cell.columnName.lowercased()] = try Self.value(of: cell, statement: sql)
            }
            return values
        }
    }

    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> Int {
        try await run(sql, parameters).metadata.rows ?? 0
    }

    /// Closes the connection when its owner (a catalog) goes away without calling `close()`. The closure
    /// holds the connection until the close completes (postgres-nio insists a connection is closed before
    /// it is freed).
    deinit {
        if let connection, !connection.isClosed {
            connection.close().whenComplete { _ in _ = connection }
        }
    }

    /// Closes the connection; a later statement opens a new one.
    public func close() async {
        if let connection {
            try? await connection.close()
        }
        connection = nil
    }

    // MARK: Internals

    private func run(_ sql: String, _ parameters: [SQLValue]) async throws -> PostgresQueryResult {
        let query = try Self.makeQuery(sql, parameters)
        let connection = try await open()
        do {
            return try await connection.query(query, logger: logger).get()
        } catch {
            // Never re-sent: a statement whose reply was lost may have committed on the server (the
            // compare-and-swap commit must see its real outcome, not a retry's). A dead connection is
            // replaced on the next statement instead.
            if connection.isClosed { self.connection = nil }
            throw Self.sqlError(error, statement: sql)
        }
    }

    /// The open connection, or a new one. Callers racing here (the actor is re-entered at each await)
    /// share one connection attempt rather than each opening their own.
    private func open() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        if let connecting { return try await connecting.value }
        let endpoint = self.endpoint, password = self.password, logger = self.logger
        let id = nextConnectionID
        nextConnectionID += 1
        let attempt = Task { () throws -> PostgresConnection in
            let tls: PostgresConnection.Configuration.TLS
            switch endpoint.sslMode {
            case .disable: tls = .disable
            case .prefer: tls = .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: tls = .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            let configuration = PostgresConnection.Configuration(
                host: endpoint.host, port: endpoint.port, username: endpoint.user, password: password,
                database: endpoint.database, tls: tls)
            do {
                return try await PostgresConnection.connect(configuration: configuration, id: id, logger: logger)
            } catch {
                throw SQLError(statement: "(connect to \(endpoint))", message: Self.describe(error))
            }
        }
        connecting = attempt
        defer { connecting = nil }
        let opened = try await attempt.value
        connection = opened
        return opened
    }

    static func makeQuery(_ sql: String, _ parameters: [SQLValue]) throws -> PostgresQuery {
        let (rewritten, count) = rewritePlaceholders(sql)
        guard count == parameters.count else {
            throw SQLError(statement: sql, message: "statement has \(count) placeholders but \(parameters.count) parameters were given")
        }
        var bindings = PostgresBindings(capacity: parameters.count)
        for parameter in parameters {
            switch parameter {
            case .null: bindings.appendNull()
            case .integer(let value): bindings.append(value)
            case .text(let value): bindings.append(value)
            }
        }
        return PostgresQuery(unsafeSQL: rewritten, binds: bindings)
    }

    /// Rewrites `?` placeholders to `$1, $2, ...`, leaving alone any `?` inside string literals, quoted
    /// identifiers and comments. Returns the statement and the number of placeholders.
    static func rewritePlaceholders(_ sql: String) -> (String, Int) {
        var out = ""
        out.reserveCapacity(sql.utf8.count + 8)
        var count = 0
        let scalars = Array(sql.unicodeScalars)
        var i = 0
        func copy(until end: Int) {
            while i < end && i < scalars.count {
                out.unicodeScalars.append(scalars[i])
                i += 1
            }
        }
        while i < scalars.count {
            let c = scalars[i]
            switch c {
            case "'", "\"":
                // Literal or quoted identifier; a doubled quote inside is an escaped quote.
                var j = i + 1
                while j < scalars.count {
                    if scalars[j] == c {
                        if j + 1 < scalars.count && scalars[j + 1] == c { j += 2; continue }
                        break
                    }
                    j += 1
                }
                copy(until: j + 1)
            case "-" where i + 1 < scalars.count && scalars[i + 1] == "-":
                var j = i
                while j < scalars.count && scalars[j] != "\n" { j += 1 }
                copy(until: j)
            case "/" where i + 1 < scalars.count && scalars[i + 1] == "*":
                var j = i + 2
                while j + 1 < scalars.count && !(scalars[j] == "*" && scalars[j + 1] == "/") { j += 1 }
                copy(until: j + 2)
            case "?":
                count += 1
                out += "$\(count)"
                i += 1
            default:
                out.unicodeScalars.append(c)
                i += 1
            }
        }
        return (out, count)
    }

    private static func value(of cell: PostgresCell, statement: String) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        do {
            switch cell.dataType {
            case .int2, .int4, .int8:
                return .integer(try cell.decode(Int64.self))
            case .bool:
                return .integer(try cell.decode(Bool.self) ? 1 : 0)
            default:
                return .text(try cell.decode(String.self))
            }
        } catch {
            throw SQLError(
                statement: statement,
                message: "column \(cell.columnName) of type \(cell.dataType) cannot be read as text or integer")
        }
    }

    private static func sqlError(_ error: Error, statement: String) -> SQLError {
        SQLError(statement: statement, message: describe(error))
    }

    /// The server's message and SQLSTATE, or the client-side error code; never the bound parameters
    /// (`String(reflecting:)` of a PSQLError would include them).
    static func describe(_ error: Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo {
            let message = info[.message] ?? "server error"
            let state = info[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            let detail = info[.detail].map { ": \($0)" } ?? ""
            return message + detail + state
        }
        let underlying = error.underlying.map { ": \($0)" } ?? ""
        return "\(error.code)\(underlying)"
    }
}
