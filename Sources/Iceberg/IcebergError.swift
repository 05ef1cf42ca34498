/// Failures of the Iceberg layer; each names the table, file or location at fault.
public enum IcebergError: Error, CustomStringConvertible, Sendable {
    case invalidMetadata(String)
    case unsupportedFormatVersion(Int, location: String)
    case corruptFile(location: String, message: String)
    case noSuchTable(String)
    case tableAlreadyExists(String)
    case noSuchNamespace(String)
    case namespaceAlreadyExists(String)
    case noSuchSnapshot(String)
    /// Another writer committed first (a failed requirement or a lost compare-and-swap); retryable.
    case commitConflict(table: String, message: String)
    /// The commit could not be completed and was rolled back; not retryable.
    case commitFailed(table: String, message: String)
    /// The catalog may or may not have applied the commit (a lost answer, a 5xx from a gateway): the files
    /// the new snapshot names must stay, since the table may already reference them (the REST spec's
    /// CommitStateUnknown).
    case commitStateUnknown(table: String, message: String)
    case catalogName(String)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .invalidMetadata(let m): return "invalid table metadata: \(m)"
        case .unsupportedFormatVersion(let v, let location): return "\(location): unsupported format-version \(v) (supported: 1, 2)"
        case .corruptFile(let location, let m): return "\(location): \(m)"
        case .noSuchTable(let t): return "table \(t) does not exist"
        case .tableAlreadyExists(let t): return "table \(t) already exists"
        case .noSuchNamespace(let n): return "namespace \(n) does not exist"
        case .namespaceAlreadyExists(let n): return "namespace \(n) already exists"
        case .noSuchSnapshot(let m): return "no such snapshot: \(m)"
        case .commitConflict(let t, let m): return "commit conflict on table \(t): \(m)"
        case .commitFailed(let t, let m): return "commit failed on table \(t): \(m)"
        case .commitStateUnknown(let t, let m): return "commit outcome unknown on table \(t): \(m)"
        case .catalogName(let m): return m
        case .invalidArgument(let m): return m
        }
    }
}

extension IcebergError {
    /// A commit the catalog rejected without applying (not retryable): the writer may remove its files.
    var isRefusedCommit: Bool {
        switch self {
        case .commitFailed, .invalidArgument, .noSuchSnapshot, .noSuchTable: return true
        default: return false
        }
    }
}
