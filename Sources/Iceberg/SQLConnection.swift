/// A connection to the database behind a JDBC-schema SQL catalog (SQLite or PostgreSQL).
///
/// Statements use `?` placeholders in both dialects; a PostgreSQL connection rewrites them to `$1, $2, ...`.
/// Column names in results are lower-case.
public protocol SQLConnection: Sendable {
    var dialect: SQLDialect { get }
    /// Rows of a query, each a column-name → value dictionary.
    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [[String: SQLValue]]
    /// Runs a statement; returns the number of rows it changed (the compare-and-swap commit relies on it).
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> Int
}

public enum SQLDialect: String, Sendable { case sqlite, postgresql }

public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)

    public var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }
}

/// A database error, with the statement that failed (never its parameters: they may hold credentials).
public struct SQLError: Error, CustomStringConvertible, Sendable {
    public let statement: String
    public let message: String
    public init(statement: String, message: String) {
        self.statement = statement
        self.message = message
    }
    public var description: String { "SQL error: \(message) (in: \(statement))" }
}
