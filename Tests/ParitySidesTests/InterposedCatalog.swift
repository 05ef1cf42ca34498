import Foundation
import Iceberg

/// A SQLite catalog that runs something once, just before the first commit it is asked for reaches the
/// catalog: another writer's commit (so the commit conflicts) or a failure standing in for the process
/// dying at that point (then nothing reaches the catalog).
final class InterposedCatalog: Catalog, @unchecked Sendable {
    let base: SQLCatalog
    private let lock = NSLock()
    private var interpose: (@Sendable (SQLCatalog) async throws -> Void)?

    init(base: SQLCatalog, beforeFirstCommit: @escaping @Sendable (SQLCatalog) async throws -> Void) {
        self.base = base
        interpose = beforeFirstCommit
    }

    var name: String { base.name }
    func listNamespaces() async throws -> [[String]] { try await base.listNamespaces() }
    func createNamespace(_ namespace: [String], properties: [String: String]) async throws {
        try await base.createNamespace(namespace, properties: properties)
    }
    func listTables(namespace: [String]) async throws -> [TableIdentifier] { try await base.listTables(namespace: namespace) }
    func loadTable(_ identifier: TableIdentifier) async throws -> Table { try await base.loadTable(identifier) }
    func createTable(_ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: Iceberg.SortOrder,
                     properties: [String: String], location: String?) async throws -> Table {
        try await base.createTable(identifier, schema: schema, spec: spec, sortOrder: sortOrder, properties: properties, location: location)
    }

    func commitTable(_ table: Table, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table {
        let action = lock.withLock {
            defer { interpose = nil }
            return interpose
        }
        if let action { try await action(base) }
        return try await base.commitTable(table, requirements: requirements, updates: updates)
    }
}
