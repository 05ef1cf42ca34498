import Foundation
import Iceberg
import K2Core
import Parity
import ParitySides
import Replay

/// Repairs one Bronze table from a parity report: writes exactly the offsets the report lists as missing on
/// that side, from the Kafka topic the report checked, and nothing else.
///
/// The report is a claim about the past: before writing, the repair checks the table against Kafka again
/// (a `ParityCheck` of the report's partitions) and writes only what the report lists *and* the table still
/// lacks *and* Kafka still holds. So a rerun (after a kill, or after success) writes nothing twice, and what
/// another writer filled meanwhile is left alone; what retention removed is listed, never silently skipped.
/// The writes are one replay (`ReplayEngine`, Kafka → Iceberg) with the ranges as its exact offset selection,
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
        let plan: RepairPlan
        do {
            plan = try RepairPlan(report: configuration.report, side: configuration.side)
        } catch {
            throw ReplayError.usage("the report: \(error)")
        }
        guard let target = configuration.replay.iceberg, case .kafka(let bootstrap, let topic) = configuration.replay.origin else {
            throw ReplayError.usage("a repair writes from a Kafka topic (--from kafka://HOST:PORT/TOPIC) into a table (--to iceberg --table ...)")
        }
        let identifier: TableIdentifier
        do { identifier = try TableIdentifier(target.table) } catch { throw ReplayError.usage("--table \(target.table): \(error)") }
        guard identifier.description == plan.table else {
            throw ReplayError.usage("the report's \(plan.side.rawValue) side is table \(plan.table), not \(identifier): "
                                    + "name that table with --table (or the other side with --repair-side)")
        }
        let planned = plan.partitions.filter { $0.topic == topic && !$0.missing.isEmpty }
        for other in plan.partitions where other.topic != topic {
            diagnostics(ReplayNote(.warning, "warning: the report lists \(other.topic) [\(other.partition)], not topic \(topic): left alone"))
        }
        let duplicated = plan.partitions.filter { !$0.duplicates.isEmpty }
        if !duplicated.isEmpty {
            diagnostics(ReplayNote(.warning, "warning: the report lists \(plan.extraRows) duplicate rows in \(identifier); "
                                   + "a repair of missing offsets leaves them (remove them as docs/runbook.md shows)"))
        }
        var result = TableRepairResult(table: identifier.description, side: plan.side.rawValue, dryRun: dryRun, partitions: [], replay: nil)
        guard !planned.isEmpty else {
            diagnostics(ReplayNote(.info, "the report lists nothing missing in \(identifier) from \(topic): nothing to do"))
            return result
        }

        // The table against Kafka now, on the report's partitions only.
        let partitions = Set(planned.map(\.partition))
        let now = try recheck(identifier, target: target, bootstrap: bootstrap, topic: topic, partitions: partitions)
        var toWrite: [Int32: [OffsetRange]] = [:]
        for entry in planned {
            let fresh = now.partitions.first { $0.topic == topic && $0.partition == entry.partition }
            let lacking = fresh?.allMissingInLeft ?? []
            // Kafka's first offset now: what the report wants below it can no longer be read.
            let floor = fresh?.right.retentionFloor ?? fresh?.right.minOffset ?? 0
            let (lost, readable) = OffsetRanges.split(entry.missing, below: floor)
            let writable = OffsetRanges.intersecting(readable, lacking)
            let present = OffsetRanges.subtracting(readable, writable)
            result.partitions.append(.init(topic: topic, partition: entry.partition, reportedMissing: entry.missing,
                                           alreadyPresent: present, lostToRetention: lost, toWrite: writable))
            if !writable.isEmpty { toWrite[entry.partition] = writable }
            if !present.isEmpty {
                diagnostics(ReplayNote(.warning, "warning: \(identifier) already holds \(OffsetRanges.offsetCount(present)) of the offsets the report lists "
                                       + "as missing in \(topic) [\(entry.partition)]: \(Self.text(present)); they are not written again"))
            }
            if !lost.isEmpty {
                diagnostics(ReplayNote(.warning, "warning: \(topic) [\(entry.partition)]: offsets \(Self.text(lost)) are no longer in Kafka "
                                       + "(its earliest offset is \(floor)): they cannot be repaired from Kafka; replay them from a capture log"))
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
        result.replay = try ReplayEngine(configuration: replay, stop: stop, diagnostics: diagnostics).run()
        return result
    }

    private func recheck(_ identifier: TableIdentifier, target: IcebergTarget, bootstrap: String, topic: String,
                         partitions: Set<Int32>) throws -> ParityReport {
        let opener = target.catalog
        let stop = self.stop
        let diagnostics = self.diagnostics
        do {
            return try runBlocking(stop: stop) {
                let catalog = try await opener.open(create: false)
                let check = ParityCheck(configuration: ParityCheckConfiguration(
                    left: .table(identifier), right: .kafka(bootstrap: bootstrap, topic: topic),
                    scope: ParityScope(partitions: partitions)), catalog: catalog)
                return try await check.run(cancellation: stop) { diagnostics(ReplayNote(.notice, "check: \($0)")) }
            }
        } catch let error as ParityCheckError {
            throw ReplayError.unusable("checking \(identifier) against kafka://\(bootstrap)/\(topic): \(error)")
        } catch let error as CatalogOpenError {
            throw ReplayError.unusable("\(error)")
        }
    }

    /// `[a, b] [c, d]`, as k2-verify writes ranges.
    static func text(_ ranges: [OffsetRange]) -> String {
        ranges.map { "[\($0.first), \($0.last)]" }.joined(separator: " ")
    }
}
