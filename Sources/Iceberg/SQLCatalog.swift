import Foundation

/// An Iceberg catalog in the JDBC catalog's tables (`iceberg_tables`, `iceberg_namespace_properties`),
/// shared with Java's JdbcCatalog and pyiceberg's SqlCatalog. A commit is a compare-and-swap on
/// `metadata_location`: only the writer whose expected location is still current wins.
public final class SQLCatalog: Catalog, @unchecked Sendable {
    public let name: String
    public let warehouse: String
    public let io: any FileIO
    private let connection: any SQLConnection
    /// Whether `iceberg_tables` has pyiceberg's/Java's newer `iceberg_type` column.
    private let hasTypeColumn: Bool

    private init(connection: any SQLConnection, name: String, warehouse: String, io: any FileIO, hasTypeColumn: Bool) {
        self.connection = connection
        self.name = name
        self.warehouse = warehouse.hasSuffix("/") ? String(warehouse.dropLast()) : warehouse
        self.io = io
        self.hasTypeColumn = hasTypeColumn
    }

    /// Opens the catalog, creating its tables when missing.
    ///
    /// - Parameters:
    ///   - name: the `catalog_name` to use; when nil, the one name present in the database
    ///     (`k2` when there is none). Several names present is an error listing them.
    ///   - createTables: false for readers: no DDL is sent (a read-only database role may not run even
    ///     `CREATE TABLE IF NOT EXISTS`), and a database without the catalog's tables is an error.
    public static func open(connection: any SQLConnection, name: String?, warehouse: String, io: any FileIO,
                            createTables: Bool = true) async throws -> SQLCatalog {
        if !createTables {
            do {
                _ = try await connection.query("SELECT catalog_name FROM iceberg_tables LIMIT 0", [])
            } catch {
                throw IcebergError.invalidArgument("the database holds no Iceberg JDBC catalog (no readable iceberg_tables table): \(error)")
            }
            return try await resolve(connection: connection, name: name, warehouse: warehouse, io: io)
        }
        try await connection.execute("""
            CREATE TABLE IF NOT EXISTS iceberg_tables (
                catalog_name VARCHAR(255) NOT NULL,
                table_namespace VARCHAR(255) NOT NULL,
                table_name VARCHAR(255) NOT NULL,
                metadata_location VARCHAR(1000),
                previous_metadata_location VARCHAR(1000),
                iceberg_type VARCHAR(5),
                PRIMARY KEY (catalog_name, table_namespace, table_name)
            )
            """, [])
        try await connection.execute("""
            CREATE TABLE IF NOT EXISTS iceberg_namespace_properties (
                catalog_name VARCHAR(255) NOT NULL,
                namespace VARCHAR(255) NOT NULL,
                property_key VARCHAR(255) NOT NULL,
                property_value VARCHAR(1000) NOT NULL,
                PRIMARY KEY (catalog_name, namespace, property_key)
            )
            """, [])
        return try await resolve(connection: connection, name: name, warehouse: warehouse, io: io)
    }

    /// The catalog name to use and the shape of `iceberg_tables`, once its tables exist.
    private static func resolve(connection: any SQLConnection, name: String?, warehouse: String, io: any FileIO) async throws -> SQLCatalog {
        var hasType = true
        do {
            _ = try await connection.query("SELECT iceberg_type FROM iceberg_tables LIMIT 0", [])
        } catch {
            hasType = false
        }
        let resolved: String
        if let name {
            resolved = name
        } else {
            let rows = try await connection.query("""
                SELECT DISTINCT catalog_name FROM iceberg_tables
                UNION SELECT DISTINCT catalog_name FROM iceberg_namespace_properties
                """, [])
            let names = rows.compactMap { $0["catalog_name"]?.text }.sorted()
            switch names.count {
            case 0: resolved = "k2"
            case 1: resolved = names[0]
            default:
                throw IcebergError.catalogName("the catalog database holds several catalogs (\(names.joined(separator: ", "))); choose one with --catalog-name")
            }
        }
        return SQLCatalog(connection: connection, name: resolved, warehouse: warehouse, io: io, hasTypeColumn: hasType)
    }

    /// The embedded catalog: a SQLite file (`--catalog sqlite:PATH`).
    public static func openSQLite(path: String, name: String?, warehouse: String, io: any FileIO = LocalFileIO()) async throws -> SQLCatalog {
        try await open(connection: try SQLiteConnection(path: path), name: name, warehouse: warehouse, io: io)
    }

    private var typeFilter: String { hasTypeColumn ? " AND (iceberg_type = 'TABLE' OR iceberg_type IS NULL)" : "" }

    public func listNamespaces() async throws -> [[String]] {
        let rows = try await connection.query("""
            SELECT DISTINCT table_namespace AS ns FROM iceberg_tables WHERE catalog_name = ?
            UNION SELECT DISTINCT namespace AS ns FROM iceberg_namespace_properties WHERE catalog_name = ?
            """, [.text(name), .text(name)])
        return rows.compactMap { $0["ns"]?.text }.sorted().map { $0.split(separator: ".").map(String.init) }
    }

    private func namespaceExists(_ namespace: String) async throws -> Bool {
        let a = try await connection.query("SELECT 1 AS x FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? LIMIT 1",
                                           [.text(name), .text(namespace)])
        if !a.isEmpty { return true }
        let b = try await connection.query("SELECT 1 AS x FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ? LIMIT 1",
                                           [.text(name), .text(namespace)])
        return !b.isEmpty
    }

    public func createNamespace(_ namespace: [String], properties: [String: String]) async throws {
        let ns = namespace.joined(separator: ".")
        guard !ns.isEmpty else { throw IcebergError.invalidArgument("empty namespace") }
        if try await namespaceExists(ns) { throw IcebergError.namespaceAlreadyExists(ns) }
        // pyiceberg records an `exists` property so an empty namespace is still listed.
        var props = properties
        if props.isEmpty { props["exists"] = "true" }
        for (key, value) in props.sorted(by: { $0.key < $1.key }) {
            do {
                try await connection.execute("""
                    INSERT INTO iceberg_namespace_properties (catalog_name, namespace, property_key, property_value) VALUES (?, ?, ?, ?)
                    """, [.text(name), .text(ns), .text(key), .text(value)])
            } catch let error as SQLError {
                // Another writer (a concurrent shard) created it between our check and our insert: the
                // primary key refused the second row.
                if try await namespaceExists(ns) { throw IcebergError.namespaceAlreadyExists(ns) }
                throw error
            }
        }
    }

    public func listTables(namespace: [String]) async throws -> [TableIdentifier] {
        let rows = try await connection.query(
            "SELECT table_name FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ?" + typeFilter,
            [.text(name), .text(namespace.joined(separator: "."))])
        return rows.compactMap { $0["table_name"]?.text }.sorted().map { TableIdentifier(namespace: namespace, name: $0) }
    }

    private func currentLocation(_ identifier: TableIdentifier) async throws -> String {
        let rows = try await connection.query(
            "SELECT metadata_location FROM iceberg_tables WHERE catalog_name = ? AND table_namespace = ? AND table_name = ?" + typeFilter,
            [.text(name), .text(identifier.namespaceName), .text(identifier.name)])
        guard let location = rows.first?["metadata_location"]?.text else {
            throw IcebergError.noSuchTable("\(identifier) (catalog \(name))")
        }
        return location
    }

    public func loadTable(_ identifier: TableIdentifier) async throws -> Table {
        let location = try await currentLocation(identifier)
        let bytes: [UInt8]
        do {
            bytes = try await io.read(location)
        } catch {
            throw IcebergError.corruptFile(location: location, message: "metadata of table \(identifier) cannot be read: \(error)")
        }
        let metadata = try TableMetadata.parse(bytes, location: location)
        return Table(identifier: identifier, metadata: metadata, metadataLocation: location, io: io)
    }

    public func createTable(_ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: SortOrder,
                            properties: [String: String], location: String?) async throws -> Table {
        guard try await namespaceExists(identifier.namespaceName) else { throw IcebergError.noSuchNamespace(identifier.namespaceName) }
        if try await tableExists(identifier) { throw IcebergError.tableAlreadyExists(identifier.description) }
        var tableLocation = location ?? ""
        if location == nil { tableLocation = try await defaultLocation(identifier) }
        let metadata = TableMetadata.new(location: tableLocation, schema: schema, spec: spec, sortOrder: sortOrder, properties: properties)
        let metadataLocation = metadata.newMetadataLocation(previous: nil)
        try await io.write(metadataLocation, contents: try metadata.serialized())
        do {
            if hasTypeColumn {
                try await connection.execute("""
                    INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location, iceberg_type)
                    VALUES (?, ?, ?, ?, NULL, 'TABLE')
                    """, [.text(name), .text(identifier.namespaceName), .text(identifier.name), .text(metadataLocation)])
            } else {
                try await connection.execute("""
                    INSERT INTO iceberg_tables (catalog_name, table_namespace, table_name, metadata_location, previous_metadata_location)
                    VALUES (?, ?, ?, ?, NULL)
                    """, [.text(name), .text(identifier.namespaceName), .text(identifier.name), .text(metadataLocation)])
            }
        } catch {
            try? await io.delete(metadataLocation)
            if try await tableExists(identifier) { throw IcebergError.tableAlreadyExists(identifier.description) }
            throw error
        }
        return Table(identifier: identifier, metadata: metadata, metadataLocation: metadataLocation, io: io)
    }

    /// pyiceberg's SqlCatalog convention: the namespace's `location` property, else `<warehouse>/<namespace>`,
    /// then the table name.
    private func defaultLocation(_ identifier: TableIdentifier) async throws -> String {
        let rows = try await connection.query("""
            SELECT property_value FROM iceberg_namespace_properties WHERE catalog_name = ? AND namespace = ? AND property_key = 'location'
            """, [.text(name), .text(identifier.namespaceName)])
        if let base = rows.first?["property_value"]?.text, !base.isEmpty {
            return (base.hasSuffix("/") ? String(base.dropLast()) : base) + "/" + identifier.name
        }
        guard !warehouse.isEmpty else {
            throw IcebergError.invalidArgument("catalog \(name) has no warehouse to place table \(identifier) in: give --warehouse")
        }
        return "\(warehouse)/\(identifier.namespaceName)/\(identifier.name)"
    }

    public func commitTable(_ table: Table, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table {
        let current = try await loadTable(table.identifier)
        for requirement in requirements {
            if let failure = requirement.failure(on: current.metadata) {
                throw IcebergError.commitConflict(table: table.identifier.description, message: failure)
            }
        }
        let nowMs = Int64(Date().timeIntervalSince1970 * 1000)
        let updated = try current.metadata.applying(updates, table: table.identifier, previousLocation: current.metadataLocation, nowMs: nowMs)
        let newLocation = updated.newMetadataLocation(previous: current.metadataLocation)
        try await io.write(newLocation, contents: try updated.serialized())
        let changed: Int
        do {
            changed = try await connection.execute("""
                UPDATE iceberg_tables SET metadata_location = ?, previous_metadata_location = ?
                WHERE catalog_name = ? AND table_namespace = ? AND table_name = ? AND metadata_location = ?
                """, [.text(newLocation), .text(current.metadataLocation), .text(name), .text(table.identifier.namespaceName),
                      .text(table.identifier.name), .text(current.metadataLocation)])
        } catch {
            // The outcome is unknown (a lost connection may follow a server-side commit): look. Our file
            // current, or in the current metadata's log (another writer committed on top of ours), means it
            // was committed. Otherwise it stays in place: an orphan metadata file is harmless, a deleted one
            // that the table's history names is not.
            if let now = try? await loadTable(table.identifier),
               now.metadataLocation == newLocation || now.metadata.metadataLog.contains(where: { $0.metadataFile == newLocation }) {
                return Table(identifier: table.identifier, metadata: updated, metadataLocation: newLocation, io: io)
            }
            throw error
        }
        guard changed == 1 else {
            try? await io.delete(newLocation)
            throw IcebergError.commitConflict(table: table.identifier.description,
                                              message: "metadata moved past \(current.metadataLocation) during the commit")
        }
        if updated.properties["write.metadata.delete-after-commit.enabled"]?.lowercased() == "true" {
            // Metadata files that fell off the metadata log are no longer referenced by any version we keep.
            let kept = Set(updated.metadataLog.map(\.metadataFile))
            for entry in current.metadata.metadataLog + [MetadataLogEntry(timestampMs: 0, metadataFile: current.metadataLocation)]
            where !kept.contains(entry.metadataFile) && entry.metadataFile != newLocation {
                try? await io.delete(entry.metadataFile)
            }
        }
        return Table(identifier: table.identifier, metadata: updated, metadataLocation: newLocation, io: io)
    }
}
