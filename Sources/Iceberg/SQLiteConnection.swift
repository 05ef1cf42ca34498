import CSQLite3
import Foundation

/// A SQLite database behind the `SQLConnection` protocol, for the embedded SQL catalog.
///
/// The C API is synchronous; calls are serialized by a lock (the catalog issues a handful of short
/// statements per commit). WAL journaling lets pyiceberg and other processes read while we write, and the
/// busy timeout makes concurrent writers wait instead of failing at once. A read-only connection (a check)
/// changes nothing in the file, not even its journal mode, and works on a read-only file and directory.
public final class SQLiteConnection: SQLConnection, @unchecked Sendable {
    public let dialect = SQLDialect.sqlite
    public let path: String
    private var db: OpaquePointer?
    private let lock = NSLock()

    public init(path: String, readOnly: Bool = false, busyTimeoutMs: Int32 = 10_000) throws {
        self.path = path
        let directory = (path as NSString).deletingLastPathComponent
        if !readOnly && !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var handle: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX
                             : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw SQLError(statement: "open \(path)", message: message)
        }
        db = handle
        sqlite3_busy_timeout(handle, busyTimeoutMs)
        // The journal mode is a property of the file: only a writer may choose it.
        if !readOnly { _ = try run("PRAGMA journal_mode=WAL", []) }
    }

    deinit { sqlite3_close_v2(db) }

    public func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [[String: SQLValue]] {
        try run(sql, parameters).rows
    }

    @discardableResult
    public func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> Int {
        try run(sql, parameters).changes
    }

    private func run(_ sql: String, _ parameters: [SQLValue]) throws -> (rows: [[String: SQLValue]], changes: Int) {
        lock.lock()
        defer { lock.unlock() }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            throw SQLError(statement: sql, message: String(cString: sqlite3_errmsg(db)))
        }
        defer { sqlite3_finalize(statement) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (i, p) in parameters.enumerated() {
            let index = Int32(i + 1)
            switch p {
            case .null: sqlite3_bind_null(statement, index)
            case .integer(let v): sqlite3_bind_int64(statement, index, v)
            case .text(let s): sqlite3_bind_text(statement, index, s, -1, transient)
            }
        }
        var rows: [[String: SQLValue]] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw SQLError(statement: sql, message: String(cString: sqlite3_errmsg(db))) }
            var row: [String: SQLValue] = [:]
            for c in 0..<sqlite3_column_count(statement) {
                let name = String(cString: sqlite3_column_name(statement, c)).lowercased()
                switch sqlite3_column_type(statement, c) {
                case SQLITE_NULL: row[name] = .null
                case SQLITE_INTEGER: row[name] = .integer(sqlite3_column_int64(statement, c))
                default: row[name] = .text(String(cString: sqlite3_column_text(statement, c)))
                }
            }
            rows.append(row)
        }
        return (rows, Int(sqlite3_changes(db)))
    }
}
