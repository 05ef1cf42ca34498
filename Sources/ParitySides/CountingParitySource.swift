import Parity

/// A side whose scans report the rows they hand to the engine, for a program's progress lines: the engine
/// stays unaware of them, and the count covers every pass (a `--payload` check reads each side twice).
final class CountingParitySource: ParitySource {
    private let inner: ParitySource
    private let rowsRead: (Int64) -> Void

    /// `rowsRead` receives the rows of each chunk as it is read.
    init(_ inner: ParitySource, rowsRead: @escaping (Int64) -> Void) {
        self.inner = inner
        self.rowsRead = rowsRead
    }

    var description: SideDescription { inner.description }
    var retentionFloors: [PartitionKey: Int64] { inner.retentionFloors }
    var knownPartitions: Set<PartitionKey> { inner.knownPartitions }
    var health: TableHealth? { inner.health }
    var expectedRows: Int64? { inner.expectedRows }

    func scan(scope: ParityScope, partitions: Set<PartitionKey>?, payload: Bool,
              into sink: (inout ParityChunk) throws -> Void) async throws {
        try await inner.scan(scope: scope, partitions: partitions, payload: payload) { chunk in
            rowsRead(Int64(chunk.count))
            try sink(&chunk)
        }
    }
}
