import Bronze
import Foundation
import Iceberg
import K2Core
import Parity
import ParitySides
import Replay

/// Repairs one Bronze table from a parity report: writes exactly the offsets the report lists as missing on
/// that side, from the Kafka topic the report checked (or a capture log of it), removes the extra rows of the
/// offsets it lists as duplicated there (`BronzeDuplicateRemoval`, one row kept per offset), and nothing else.
///
/// The report is a claim about the past: before writing, the repair reads which of those offsets the table and
/// the source hold now (`ParityCheck.offsets`) and writes only what the report lists *and* the table still
/// lacks *and* the source (the Kafka topic, or a log captured from it by `k2-capture kafka`) still holds. So a rerun (after a kill, or after success) writes nothing twice, and what
/// another writer filled meanwhile is left alone; what retention removed is listed, never silently skipped.
/// The writes are one replay (`ReplayEngine`, Kafka or log → Iceberg) with the ranges as its exact offset selection,
/// committed with the replay's `k2.replay.*` progress keys like any backfill.
public struct TableRepair {
    public let configuration: TableRepairConfiguration
    private let stop: CancellationSignal
    private let diagnostics: ReplayDiagnostics
    /// Whether a dry run writes nothing (set from the replay configuration's `dryRun`).
    private var dryRun: Bool { configuration.replay.dryRun }

    public init(configuration: TableRepairConfiguration, stop: CancellationSignal, diagnostics: @escaping ReplayDiagnostics) {
        self.configuration = configuration
        self.stop = stop
        self.diagnostics = diagnostics
    }

    /// Throws `ReplayError` (usage: the report and the options disagree; unusable: the catalog or Kafka cannot be
    /// read), the replay's own errors, or `Interrupted`.
    public func run() throws -> TableRepairResult {
        guard let target = configuration.replay.iceberg else {
            throw ReplayError.usage("a repair writes into a table (--to iceberg --table ...)")
        }
        // Without a side named, the report's side that is the table to repair.
        let sides = configuration.report.sides
        let named = configuration.side ?? RepairPlan.Side.allCases.first { side in
            let description = side == .left ? sides.left : sides.right
            return description.kind == "iceberg" && (try? TableIdentifier(target.table))?.description == description.name
        }
        let plan: RepairPlan
        do {
            plan = try RepairPlan(report: configuration.report, side: named)
        } catch {
            throw ReplayError.usage("the report: \(error)")
        }
        // Where the offsets come from: the topic the report checked, or a log captured from it (k2-capture kafka).
        let source: ParitySide
        let sourceName: String
        var topic: String?
        switch configuration.replay.origin {
        case .kafka(let bootstrap, let name):
            source = .kafka(bootstrap: bootstrap, topic: name)
            sourceName = "Kafka"
            topic = name
        case .segmentLog(let directory):
            source = .log(directory: directory)
            sourceName = "the capture log \(directory)"
        }
        let identifier: TableIdentifier
        do { identifier = try TableIdentifier(target.table) } catch { throw ReplayError.usage("--table \(target.table): \(error)") }
        guard identifier.description == plan.table else {
            throw ReplayError.usage("the report's \(plan.side.rawValue) side is table \(plan.table), not \(identifier): "
                                    + "name that table with --table (or the other side with --repair-side)")
        }
        let topics = Set(plan.partitions.map(\.topic))
        if topic == nil {
            guard topics.count <= 1 else {
                throw ReplayError.usage("the report covers topics \(topics.sorted()); a capture log repairs one: use --from kafka://HOST:PORT/TOPIC")
            }
            topic = topics.first
        }
        let planned = plan.partitions.filter { $0.topic == topic && !$0.missing.isEmpty }
        for other in plan.partitions where other.topic != topic {
            diagnostics(ReplayNote(.warning, "warning: the report lists \(other.topic) [\(other.partition)], not topic \(topic ?? "?"): left alone"))
        }
        var result = TableRepairResult(table: identifier.description, side: plan.side.rawValue, dryRun: dryRun, partitions: [], replay: nil)
        // Duplicates first: the rows a removal keeps are those already there, never a row this repair adds.
        let duplicated = plan.partitions.filter { $0.topic == topic && !$0.duplicates.isEmpty }
        if !duplicated.isEmpty {
            result.duplicates = try removeDuplicates(duplicated, table: identifier, target: target)
        }
        guard let topic, !planned.isEmpty else {
            diagnostics(ReplayNote(.info, "the report lists nothing missing in \(identifier)\(topic.map { " from " + $0 } ?? "")"))
            return result
        }

        // What the table and the source hold now, of the offsets the report lists.
        let reported = PartitionOffsetRanges(exactly: Dictionary(uniqueKeysWithValues: planned.map { ($0.partition, $0.missing) }))
        let scope = ParityScope(partitions: Set(planned.map(\.partition)), offsets: reported)
        let tableHolds = try offsets(of: .table(identifier), scope: scope, target: target, what: "table \(identifier)")
        let sourceHolds = try offsets(of: source, scope: scope, target: target, what: "\(source)")
        var toWrite: [Int32: [OffsetRange]] = [:]
        for entry in planned {
            let key = PartitionKey(topic: topic, partition: entry.partition)
            let present = OffsetRanges.intersecting(entry.missing, tableHolds[key] ?? [])
            let lacking = OffsetRanges.subtracting(entry.missing, present)
            let writable = OffsetRanges.intersecting(lacking, sourceHolds[key] ?? [])
            let lost = OffsetRanges.subtracting(lacking, writable)
            result.partitions.append(.init(topic: topic, partition: entry.partition, reportedMissing: entry.missing,
                                           alreadyPresent: present, lostToRetention: lost, toWrite: writable))
            if !writable.isEmpty { toWrite[entry.partition] = writable }
            if !present.isEmpty {
                diagnostics(ReplayNote(.warning, "warning: \(identifier) already holds \(OffsetRanges.offsetCount(present)) of the offsets the report lists "
                                       + "as missing in \(topic) [\(entry.partition)]: \(Self.text(present)); they are not written again"))
            }
            if !lost.isEmpty {
                diagnostics(ReplayNote(.warning, "warning: \(topic) [\(entry.partition)]: offsets \(Self.text(lost)) are not in \(sourceName) "
                                       + "(retention removed them, or the log never held them): they cannot be repaired from there"
                                       + (sourceName == "Kafka" ? "; replay them from a capture log of the topic (docs/runbook.md)" : "")))
            }
            diagnostics(ReplayNote(.info, "\(topic) [\(entry.partition)]: \(dryRun ? "would write" : "writing") "
                                   + (writable.isEmpty ? "nothing" : Self.text(writable))))
        }
        guard !toWrite.isEmpty, !dryRun else { return result }

        var replay = configuration.replay
        replay.offsets = PartitionOffsetRanges(exactly: toWrite)
        replay.sourcePartitions = nil
        replay.sinceNanos = nil
        replay.untilNanos = nil
        replay.shard = .whole
        if case .segmentLog = replay.origin { replay.sources = ["kafka:" + topic] }
        result.replay = try ReplayEngine(configuration: replay, stop: stop, diagnostics: diagnostics).run()
        return result
    }

    /// Removes the rows holding an offset the report lists as duplicated more than once (`BronzeDuplicateRemoval`,
    /// scoped to those ranges: one `delete` snapshot of position delete files; a dry run counts them).
    private func removeDuplicates(_ partitions: [RepairPlan.PartitionRepair], table: TableIdentifier,
                                  target: IcebergTarget) throws -> BronzeDuplicateRemovalResult {
        let scope = BronzeDuplicateScope(partitions: Dictionary(uniqueKeysWithValues: partitions.map { entry in
            (entry.partition, entry.duplicates.map { $0.first...$0.last })
        }))
        let opener = target.catalog
        let stop = self.stop
        let diagnostics = self.diagnostics
        let dryRun = self.dryRun
        let removed: BronzeDuplicateRemovalResult
        do {
            removed = try runBlocking(stop: stop) {
                // Writable unless a dry run (a SQLite catalog opened for a check is read-only).
                let catalog = try await opener.open(create: !dryRun)
                return try await BronzeDuplicateRemoval(catalog: catalog, table: table, scope: scope, dryRun: dryRun)
                    .run(cancellation: stop) { diagnostics(ReplayNote(.notice, "duplicates: \($0)")) }
            }
        } catch let error as CatalogOpenError {
            throw ReplayError.unusable("\(error)")
        }
        for (partition, ranges) in removed.duplicateOffsets.sorted(by: { $0.key < $1.key }) {
            let text = ranges.map { "[\($0.lowerBound), \($0.upperBound)]" }.joined(separator: " ")
            diagnostics(ReplayNote(.info, "\(table) partition \(partition): \(dryRun ? "would remove" : "removed") "
                                   + "\(removed.rowsRemoved[partition] ?? 0) extra rows of offsets \(text)"))
        }
        return removed
    }

    private func offsets(of side: ParitySide, scope: ParityScope, target: IcebergTarget, what: String) throws -> [PartitionKey: [OffsetRange]] {
        let opener = target.catalog
        let stop = self.stop
        let diagnostics = self.diagnostics
        do {
            return try runBlocking(stop: stop) {
                let catalog = side.isTable ? try await opener.open(create: false) : nil
                return try await ParityCheck.offsets(of: side, scope: scope, catalog: catalog, cancellation: stop) {
                    diagnostics(ReplayNote(.notice, "check: \($0)"))
                }
            }
        } catch let error as ParityCheckError {
            throw ReplayError.unusable("reading the offsets \(what) holds: \(error)")
        } catch let error as CatalogOpenError {
            throw ReplayError.unusable("\(error)")
        }
    }

    /// `[a, b] [c, d]`, as k2-verify writes ranges.
    static func text(_ ranges: [OffsetRange]) -> String {
        ranges.map { "[\($0.first), \($0.last)]" }.joined(separator: " ")
    }
}
