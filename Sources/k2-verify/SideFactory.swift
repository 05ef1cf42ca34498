import Foundation
import Iceberg
import Parity

/// Opens the source for a side specification; table sides share one catalog connection.
final class SideFactory {
    let opener: CatalogOpener
    let scope: ParityScope
    let asOfMillis: Int64?
    private var openedCatalog: (any Catalog, String)?

    init(opener: CatalogOpener, scope: ParityScope, asOfMillis: Int64?) {
        self.opener = opener
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

    /// The catalog of `--catalog` (sqlite:, postgresql://, rest:), opened once by the library's catalog
    /// opener (shared with k2-replay). The catalog name is `--catalog-name`, or the one name present.
    private func openCatalog(role: String, spec: SideSpecification) async throws -> (any Catalog, String) {
        if let openedCatalog { return openedCatalog }
        // Without --catalog, a local --warehouse DIR means its embedded catalog, sqlite:DIR/catalog.db (as in k2-replay).
        guard opener.catalog != nil || opener.warehouse != nil else {
            throw VerifyFailure("\(role) \(spec): a table side needs --catalog (or --warehouse DIR for sqlite:DIR/catalog.db)")
        }
        do {
            let opened = try await opener.open(create: false)
            openedCatalog = (opened, opened.name)
            return (opened, opened.name)
        } catch let error as CatalogOpenError {
            throw VerifyFailure(error.description)
        }
    }
}
