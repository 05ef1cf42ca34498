import Foundation
import Iceberg
import Parity

/// Opens the source for a side specification; table sides share one catalog connection.
final class SideFactory {
    let catalog: String?
    let catalogName: String?
    let scope: ParityScope
    let asOfMillis: Int64?
    private var openedCatalog: (any Catalog, String)?

    init(catalog: String?, catalogName: String?, scope: ParityScope, asOfMillis: Int64?) {
        self.catalog = catalog
        self.catalogName = catalogName
        self.scope = scope
        self.asOfMillis = asOfMillis
    }

    func make(_ spec: SideSpecification, snapshotId: Int64?, role: String) async throws -> ParitySource {
        switch spec {
        case .kafka(let bootstrap, let topic):
            if snapshotId != nil { throw VerifyFailure("\(role) \(spec): --snapshot-* applies to tables only") }
            return KafkaParitySource(bootstrap: bootstrap, topic: topic)
        case .log(let directory):
            if snapshotId != nil { throw VerifyFailure("\(role) \(spec): --snapshot-* applies to tables only") }
            return LogParitySource(directory: directory)
        case .table(let namespace, let name):
            let (catalog, resolvedName) = try await openCatalog(role: role, spec: spec)
            let identifier = TableIdentifier(namespace: namespace, name: name)
            let table: Table
            do {
                table = try await catalog.loadTable(identifier)
            } catch {
                throw VerifyFailure("\(role) table \(identifier) in catalog \(resolvedName): \(error)")
            }
            return try IcebergParitySource(table: table, snapshotId: snapshotId, asOfMillis: asOfMillis, catalogName: resolvedName)
        }
    }

    /// `sqlite:PATH` (the embedded JDBC-schema catalog). The catalog name is `--catalog-name`, or the one
    /// name present in the database.
    private func openCatalog(role: String, spec: SideSpecification) async throws -> (any Catalog, String) {
        if let openedCatalog { return openedCatalog }
        guard let catalog else { throw VerifyFailure("\(role) \(spec): a table side needs --catalog") }
        if catalog.hasPrefix("sqlite:") {
            let path = String(catalog.dropFirst("sqlite:".count))
            guard FileManager.default.fileExists(atPath: path) else {
                throw VerifyFailure("--catalog \(catalog): no such file \(path)")
            }
            do {
                let connection = try SQLiteConnection(path: path)
                let warehouse = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("warehouse").absoluteString
                let opened = try await SQLCatalog.open(connection: connection, name: catalogName, warehouse: warehouse, io: LocalFileIO())
                openedCatalog = (opened, opened.name)
                return (opened, opened.name)
            } catch {
                throw VerifyFailure("--catalog \(catalog): \(error)")
            }
        }
        if catalog.hasPrefix("postgresql://") || catalog.hasPrefix("postgres://") || catalog.hasPrefix("rest:") {
            throw VerifyFailure("--catalog \(catalog): this build reads SQLite catalogs only (PostgreSQL and REST catalogs are not wired into k2-verify yet)")
        }
        throw VerifyFailure("--catalog \(catalog): expected sqlite:PATH, postgresql://... or rest:http://...")
    }
}
