import Parity

/// Opens the source for a side specification (catalog connections are shared by the table sides).
struct SideFactory {
    let catalog: String?
    let catalogName: String?
    let scope: ParityScope
    let asOfMillis: Int64?

    func make(_ spec: SideSpecification, snapshotId: Int64?, role: String) async throws -> ParitySource {
        switch spec {
        case .kafka(let bootstrap, let topic):
            if snapshotId != nil { throw VerifyFailure("\(role) \(spec): --snapshot-* applies to tables only") }
            return KafkaParitySource(bootstrap: bootstrap, topic: topic)
        case .log(let directory):
            throw VerifyFailure("\(role) \(spec): segment log sides need the SegmentLog module (log:\(directory) not readable in this build)")
        case .table:
            guard catalog != nil else { throw VerifyFailure("\(role) \(spec): a table side needs --catalog") }
            throw VerifyFailure("\(role) \(spec): Iceberg table sides need the Iceberg reader, not in this build yet")
        }
    }
}
