import K2Core
/// What a repair of one Iceberg side of a parity report must do, read from the report alone: per topic
/// partition, the offsets that side lacks (against the other side and the truth) and the offsets it holds
/// more than once. A plan does not read Kafka or the table; the repair checks both again before writing
/// (what the table gained since the report, what Kafka's retention removed).
public struct RepairPlan: Sendable, Equatable {
    public enum Side: String, Sendable, CaseIterable { case left, right }

    public struct PartitionRepair: Sendable, Equatable {
        public var topic: String
        public var partition: Int32
        /// Offsets to write, as inclusive ranges, sorted and disjoint.
        public var missing: [OffsetRange]
        /// Offsets held by more than one row: all but one row of each are to be removed.
        public var duplicates: [DuplicateRange]

        public var missingCount: Int64 { missing.reduce(0) { $0 + $1.count } }
        /// Rows to remove: for each duplicated offset, its extra rows.
        public var extraRows: Int64 { duplicates.reduce(0) { $0 + ($1.last - $1.first + 1) * Int64($1.count - 1) } }
    }

    public var side: Side
    /// The table to repair (`NAMESPACE.TABLE`), as the report names it.
    public var table: String
    /// The snapshot the report checked.
    public var snapshotId: Int64?
    /// The partitions with something to repair, by topic and partition.
    public var partitions: [PartitionRepair]

    public var missingCount: Int64 { partitions.reduce(0) { $0 + $1.missingCount } }
    public var extraRows: Int64 { partitions.reduce(0) { $0 + $1.extraRows } }
    public var isEmpty: Bool { partitions.isEmpty }

    public enum PlanError: Error, CustomStringConvertible, Equatable {
        case notATable(side: Side, kind: String, name: String)
        case noSideToRepair

        public var description: String {
            switch self {
            case .notATable(let side, let kind, let name):
                return "the report's \(side.rawValue) side is \(kind) \(name), not an Iceberg table: only a table can be repaired"
            case .noSideToRepair:
                return "neither side of the report is an Iceberg table with something missing or duplicated"
            }
        }
    }

    /// The plan for `side`; with no side given, the one Iceberg side that has something to repair.
    public init(report: ParityReport, side: Side?) throws {
        if let side {
            self = try RepairPlan(report: report, exactly: side)
            return
        }
        let candidates = try Side.allCases.filter { report.sides[$0].kind == "iceberg" }.map { try RepairPlan(report: report, exactly: $0) }
        guard let chosen = candidates.first(where: { !$0.isEmpty }) ?? candidates.first else { throw PlanError.noSideToRepair }
        guard candidates.filter({ !$0.isEmpty }).count <= 1 else {
            // Both tables need work: each is its own repair, so the user names the one to do.
            throw PlanError.noSideToRepair
        }
        self = chosen
    }

    private init(report: ParityReport, exactly side: Side) throws {
        let description = report.sides[side]
        guard description.kind == "iceberg" else { throw PlanError.notATable(side: side, kind: description.kind, name: description.name) }
        self.side = side
        table = description.name
        snapshotId = description.snapshotId
        partitions = report.partitions.compactMap { entry in
            let missing = side == .left ? entry.allMissingInLeft : entry.allMissingInRight
            let duplicates = side == .left ? entry.duplicatesLeft : entry.duplicatesRight
            guard !missing.isEmpty || !duplicates.isEmpty else { return nil }
            return PartitionRepair(topic: entry.topic, partition: entry.partition, missing: missing, duplicates: duplicates)
        }.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }
}

extension ParityReport.Sides {
    subscript(side: RepairPlan.Side) -> SideDescription {
        side == .left ? left : right
    }
}
