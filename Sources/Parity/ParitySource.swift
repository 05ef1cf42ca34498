/// One side of a parity check: a Bronze table, a Kafka topic, a segment log captured from Kafka, or
/// rows built in a test. The engine reads each side once for offsets and counts, and once more (partition
/// group by partition group) for payload hashes when asked to compare payloads.
public protocol ParitySource: AnyObject {
    /// What this side is, for the report (kind, name, snapshot id, ...).
    var description: SideDescription { get }

    /// Streams the rows in `scope`, restricted to `partitions` when given, as chunks of one partition each.
    /// `payload` asks for `payloadHashes` in every chunk. A source need not order rows across chunks.
    func scan(scope: ParityScope, partitions: Set<PartitionKey>?, payload: Bool,
              into sink: (inout ParityChunk) throws -> Void) async throws

    /// The first offset this side still holds per partition, for sources that lose old records by design
    /// (Kafka retention). Offsets below it are reported as dropped by retention, never as missing.
    /// Valid after a scan; empty for sources that keep everything.
    var retentionFloors: [PartitionKey: Int64] { get }

    /// Partitions the side knows to exist even when it returned no rows for them (an empty Kafka partition).
    var knownPartitions: Set<PartitionKey> { get }

    /// Table health (Iceberg sides only), computed by the source from its metadata and the rows it read.
    var health: TableHealth? { get }

    /// The rows a whole scan is expected to hand over, known before scanning (a table's `total-records`),
    /// for progress lines and their ETA only; nil when unknown.
    var expectedRows: Int64? { get }
}

public extension ParitySource {
    var retentionFloors: [PartitionKey: Int64] { [:] }
    var knownPartitions: Set<PartitionKey> { [] }
    var health: TableHealth? { nil }
    var expectedRows: Int64? { nil }
}
