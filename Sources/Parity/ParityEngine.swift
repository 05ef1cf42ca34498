import K2Core
import Foundation

/// Compares two sides (and optionally a truth side) partition by partition.
///
/// Pass 1 reads offsets and timestamps of each side once into run-length `OffsetCoverage`s and hourly
/// tallies. With payload comparison, pass 2 walks the partitions in offset windows of bounded size: the
/// left (and truth) hashes of a window go into dense arrays indexed by `offset - window start`, and the
/// other sides are compared against them as they stream.
public final class ParityEngine {
    public let options: ParityOptions

    public init(options: ParityOptions = ParityOptions()) {
        self.options = options
    }

    enum Role: Int, CaseIterable { case left = 0, right = 1, truth = 2
        var name: String { ["left", "right", "truth"][rawValue] }
    }

    public func run(left: ParitySource, right: ParitySource, truth: ParitySource? = nil) async throws -> ParityReport {
        var sources: [ParitySource?] = [left, right, truth]
        var tallies: [[PartitionKey: PartitionTally]] = [[:], [:], [:]]
        for role in Role.allCases {
            guard let source = sources[role.rawValue] else { continue }
            tallies[role.rawValue] = try await firstPass(source)
        }
        var keys = Set<PartitionKey>()
        for role in Role.allCases {
            guard let source = sources[role.rawValue] else { continue }
            keys.formUnion(tallies[role.rawValue].keys)
            keys.formUnion(source.knownPartitions.filter { options.scope.contains(partition: $0.partition) })
        }
        let floors: [[PartitionKey: Int64]] = sources.map { $0?.retentionFloors ?? [:] }

        var payload: [PartitionKey: PayloadFindings] = [:]
        if options.comparePayload {
            payload = try await comparePayloads(sources: sources, tallies: tallies, keys: keys)
        }
        sources.removeAll()

        var partitions: [PartitionReport] = []
        for key in keys.sorted() {
            partitions.append(partitionReport(key, tallies: tallies, floors: floors,
                                              hasTruth: truth != nil, payload: payload[key]))
        }
        partitions.sort { ($0.parity ? 1 : 0, $0.key) < ($1.parity ? 1 : 0, $1.key) }
        return assemble(partitions: partitions, tallies: tallies, left: left, right: right, truth: truth)
    }

    // MARK: pass 1

    private func firstPass(_ source: ParitySource) async throws -> [PartitionKey: PartitionTally] {
        var tallies: [PartitionKey: PartitionTally] = [:]
        let scope = options.scope
        try await source.scan(scope: scope, partitions: nil, payload: false) { chunk in
            guard scope.contains(partition: chunk.key.partition), chunk.count > 0 else { return }
            var tally = tallies.removeValue(forKey: chunk.key) ?? PartitionTally()
            Self.accumulate(chunk, scope: scope, into: &tally)
            // A chunk wholly outside the time scope must not make its partition appear.
            if !tally.coverage.isEmpty { tallies[chunk.key] = tally }
        }
        for key in Array(tallies.keys) { tallies[key]!.finish() }
        return tallies
    }

    /// Adds a chunk's rows that are in scope, turning consecutive offsets into runs first.
    static func accumulate(_ chunk: ParityChunk, scope: ParityScope, into tally: inout PartitionTally) {
        let filtersRows = scope.filtersRows
        let partition = chunk.key.partition
        chunk.offsets.withUnsafeBufferPointer { offsets in
            chunk.timestampsMicros.withUnsafeBufferPointer { timestamps in
                var runFirst: Int64 = 0, runLast: Int64 = 0, inRun = false
                let days = chunk.ingestionDays
                for index in 0..<offsets.count {
                    let timestamp = timestamps[index]
                    let offset = offsets[index]
                    if filtersRows && !scope.contains(partition: partition, offset: offset, timestampMicros: timestamp) { continue }
                    tally.add(offset: offset, timestampMicros: timestamp)
                    // Int32.min: the row has no ingestion_date (a null in a nullable column).
                    if let days, days[index] != Int32.min { tally.add(day: days[index]) }
                    if inRun && offset == runLast &+ 1 {
                        runLast = offset
                    } else {
                        if inRun { tally.coverage.add(runFirst, runLast) }
                        runFirst = offset
                        runLast = offset
                        inRun = true
                    }
                }
                if inRun { tally.coverage.add(runFirst, runLast) }
            }
        }
    }

    // MARK: pass 2 (payloads)

    struct PayloadFindings {
        var leftVsRight = OffsetCoverage()
        var leftVsTruth = OffsetCoverage()
        var rightVsTruth = OffsetCoverage()
    }

    /// One offset window of one partition whose hashes are held in memory during a group's scans.
    struct Window {
        var key: PartitionKey
        var first: Int64
        var last: Int64
    }

    private func comparePayloads(sources: [ParitySource?], tallies: [[PartitionKey: PartitionTally]],
                                 keys: Set<PartitionKey>) async throws -> [PartitionKey: PayloadFindings] {
        // Windows: each partition's offset span (union of the sides), cut to the budget, packed into groups.
        let budget = max(1, options.payloadWindowOffsets)
        var groups: [[Window]] = []
        var current: [Window] = []
        var used: Int64 = 0
        for key in keys.sorted() {
            var low = Int64.max, high = Int64.min
            for role in Role.allCases {
                if let coverage = tallies[role.rawValue][key]?.coverage, let lo = coverage.minOffset, let hi = coverage.maxOffset {
                    low = min(low, lo); high = max(high, hi)
                }
            }
            guard low <= high else { continue }
            var start = low
            while start <= high {
                let room = budget - used
                let last = min(high, start + room - 1)
                current.append(Window(key: key, first: start, last: last))
                used += last - start + 1
                start = last + 1
                if used >= budget { groups.append(current); current = []; used = 0 }
            }
        }
        if !current.isEmpty { groups.append(current) }

        var findings: [PartitionKey: PayloadFindings] = [:]
        let hasTruth = sources[Role.truth.rawValue] != nil
        for group in groups {
            var byKey: [PartitionKey: [Int]] = [:]
            for (index, window) in group.enumerated() { byKey[window.key, default: []].append(index) }
            var leftHashes = group.map { [UInt64](repeating: 0, count: Int($0.last - $0.first + 1)) }
            var truthHashes: [[UInt64]] = hasTruth ? leftHashes : []
            let partitions = Set(byKey.keys)

            // Left: store.
            try await scanHashes(sources[0]!, partitions, group, byKey) { window, slot, hash, _ in
                if leftHashes[window][slot] == 0 { leftHashes[window][slot] = hash }
            }
            // Truth: store, and compare with the left.
            if hasTruth {
                try await scanHashes(sources[2]!, partitions, group, byKey) { window, slot, hash, offset in
                    if truthHashes[window][slot] == 0 { truthHashes[window][slot] = hash }
                    let left = leftHashes[window][slot]
                    if left != 0 && left != hash { findings[group[window].key, default: .init()].leftVsTruth.add(offset, offset) }
                }
            }
            // Right: compare with the left and the truth.
            try await scanHashes(sources[1]!, partitions, group, byKey) { window, slot, hash, offset in
                let left = leftHashes[window][slot]
                if left != 0 && left != hash { findings[group[window].key, default: .init()].leftVsRight.add(offset, offset) }
                if hasTruth {
                    let truth = truthHashes[window][slot]
                    if truth != 0 && truth != hash { findings[group[window].key, default: .init()].rightVsTruth.add(offset, offset) }
                }
            }
        }
        return findings
    }

    /// Scans `source` for the group's partitions with payloads, calling `visit(window, slot, hash, offset)`
    /// for every in-scope row that falls in one of the group's windows.
    private func scanHashes(_ source: ParitySource, _ partitions: Set<PartitionKey>, _ group: [Window],
                            _ byKey: [PartitionKey: [Int]],
                            _ visit: (Int, Int, UInt64, Int64) -> Void) async throws {
        let scope = options.scope
        try await source.scan(scope: scope, partitions: partitions, payload: true) { chunk in
            guard let windows = byKey[chunk.key], scope.contains(partition: chunk.key.partition) else { return }
            guard let hashes = chunk.payloadHashes, hashes.count == chunk.count else {
                throw ParityError.sourceBroke(source.description.name, "no payload hashes for \(chunk.key)")
            }
            let filtersRows = scope.filtersRows
            for index in 0..<chunk.count {
                let offset = chunk.offsets[index]
                if filtersRows && !scope.contains(partition: chunk.key.partition, offset: offset, timestampMicros: chunk.timestampsMicros[index]) { continue }
                for window in windows where offset >= group[window].first && offset <= group[window].last {
                    visit(window, Int(offset - group[window].first), hashes[index], offset)
                }
            }
        }
    }

    // MARK: comparison

    private func partitionReport(_ key: PartitionKey, tallies: [[PartitionKey: PartitionTally]],
                                 floors: [[PartitionKey: Int64]], hasTruth: Bool,
                                 payload: PayloadFindings?) -> PartitionReport {
        let roles: [Role] = hasTruth ? [.left, .right, .truth] : [.left, .right]
        let empty = PartitionTally()
        let tally = roles.map { tallies[$0.rawValue][key] ?? empty }
        let distinct = tally.map { $0.coverage.distinctRanges }
        let floor = roles.map { floors[$0.rawValue][key] }

        /// Offsets `holder` has that `lacker` lacks, less what lies below the lacker's retention floor.
        func missing(in lacker: Int, from holder: Int) -> [OffsetRange] {
            let gaps = OffsetRanges.subtracting(distinct[holder], distinct[lacker])
            guard let f = floor[lacker] else { return gaps }
            return OffsetRanges.split(gaps, below: f).atOrAbove
        }

        var retention: [RetentionNote] = []
        for (index, role) in roles.enumerated() {
            guard let f = floor[index] else { continue }
            var others: [OffsetRange] = []
            for other in roles.indices where other != index {
                others = OffsetRanges.union(others, distinct[other])
            }
            let dropped = OffsetRanges.split(OffsetRanges.subtracting(others, distinct[index]), below: f).below
            if !dropped.isEmpty {
                retention.append(RetentionNote(side: role.name, floor: f, droppedOffsets: dropped,
                    note: "offsets below \(f) are no longer held by \(role.name) (retention), not counted as missing"))
            }
        }

        func counts(_ index: Int) -> PartitionSideCounts {
            let t = tally[index]
            return PartitionSideCounts(
                rows: t.coverage.rowCount, distinctOffsets: t.coverage.distinctCount,
                minOffset: t.coverage.minOffset, maxOffset: t.coverage.maxOffset,
                minTimestamp: t.minTimestampMicros == .max ? nil : CivilTime.timestamp(micros: t.minTimestampMicros),
                maxTimestamp: t.maxTimestampMicros == .min ? nil : CivilTime.timestamp(micros: t.maxTimestampMicros),
                retentionFloor: floor[index])
        }

        var report = PartitionReport(
            topic: key.topic, partition: key.partition, parity: true,
            left: counts(0), right: counts(1), truth: hasTruth ? counts(2) : nil,
            missingInLeft: missing(in: 0, from: 1), missingInRight: missing(in: 1, from: 0),
            missingInLeftVsTruth: hasTruth ? missing(in: 0, from: 2) : nil,
            missingInRightVsTruth: hasTruth ? missing(in: 1, from: 2) : nil,
            missingInTruth: hasTruth ? missing(in: 2, from: 0).isEmpty && missing(in: 2, from: 1).isEmpty
                ? [] : OffsetRanges.union(missing(in: 2, from: 0), missing(in: 2, from: 1)) : nil,
            duplicatesLeft: tally[0].coverage.duplicates, duplicatesRight: tally[1].coverage.duplicates,
            duplicatesTruth: hasTruth ? tally[2].coverage.duplicates : nil,
            payloadMismatches: options.comparePayload ? (payload?.leftVsRight.distinctRanges ?? []) : nil,
            payloadMismatchesLeftVsTruth: options.comparePayload && hasTruth ? (payload?.leftVsTruth.distinctRanges ?? []) : nil,
            payloadMismatchesRightVsTruth: options.comparePayload && hasTruth ? (payload?.rightVsTruth.distinctRanges ?? []) : nil,
            retention: retention,
            rowsByHour: hourRows(tally, hasTruth: hasTruth),
            gapEdges: [])
        var edges: [GapEdges] = []
        let lacking: [(Int, [OffsetRange])] = [(0, report.allMissingInLeft), (1, report.allMissingInRight)]
            + (hasTruth ? [(2, report.missingInTruth ?? [])] : [])
        for (index, ranges) in lacking {
            for range in ranges {
                let before = tally[index].edges.last(below: range.first)
                let after = tally[index].edges.first(above: range.last)
                edges.append(GapEdges(
                    side: roles[index].name, first: range.first, last: range.last,
                    beforeOffset: before?.offset, beforeTimestamp: before.map { CivilTime.timestamp(micros: $0.timestampMicros) },
                    afterOffset: after?.offset, afterTimestamp: after.map { CivilTime.timestamp(micros: $0.timestampMicros) }))
            }
        }
        report.gapEdges = edges
        let lists: [[OffsetRange]?] = [report.missingInLeft, report.missingInRight, report.missingInLeftVsTruth,
                                       report.missingInRightVsTruth, report.missingInTruth, report.payloadMismatches,
                                       report.payloadMismatchesLeftVsTruth, report.payloadMismatchesRightVsTruth]
        let duplicateLists: [[DuplicateRange]?] = [report.duplicatesLeft, report.duplicatesRight, report.duplicatesTruth]
        report.parity = lists.allSatisfy { $0?.isEmpty ?? true } && duplicateLists.allSatisfy { $0?.isEmpty ?? true }
        return report
    }

    private func hourRows(_ tally: [PartitionTally], hasTruth: Bool) -> [HourRows] {
        var hours = Set<Int64>()
        for t in tally { hours.formUnion(t.hours.keys) }
        return hours.sorted().map { hour in
            let parts = tally.map { $0.hours[hour] }
            return HourRows(
                hour: CivilTime.hour(hours: hour),
                left: parts[0]?.rows ?? 0, right: parts[1]?.rows ?? 0,
                truth: hasTruth ? (parts[2]?.rows ?? 0) : nil,
                minOffset: parts.compactMap { $0?.minOffset }.min() ?? 0,
                maxOffset: parts.compactMap { $0?.maxOffset }.max() ?? 0)
        }
    }

    // MARK: assembly

    /// Rows over time for the chart: the finest width every tally still has whose span needs at most
    /// `chartBuckets` buckets; hours when a tally gave up its fine buckets (days of data).
    private func timeSeries(_ tallies: [[PartitionKey: PartitionTally]], hasTruth: Bool) -> TimeSeries {
        let chartBuckets: Int64 = 240
        let all = tallies.flatMap { $0.values }
        var low = Int64.max, high = Int64.min
        for tally in all where tally.minTimestampMicros != .max {
            low = min(low, tally.minTimestampMicros)
            high = max(high, tally.maxTimestampMicros)
        }
        let finest = all.map { $0.buckets.bucketSeconds }
        var width: Int64 = 3600
        if low <= high, !finest.contains(where: { $0 == nil }) {
            let floorWidth = finest.compactMap { $0 }.max() ?? 1
            let spanSeconds = (high - low) / 1_000_000 + 1
            width = (TimeBucketTally.widths + [3600]).first { $0 >= floorWidth && spanSeconds / $0 < chartBuckets } ?? 3600
        }
        func series(_ role: Role) -> [String: Int64] {
            var result: [String: Int64] = [:]
            for tally in tallies[role.rawValue].values {
                if width == 3600 {
                    for (hour, value) in tally.hours { result[CivilTime.timestamp(micros: hour * 3_600_000_000), default: 0] += value.rows }
                } else {
                    for (start, rows) in tally.buckets.counts(atSeconds: width) {
                        result[CivilTime.timestamp(micros: start * 1_000_000), default: 0] += rows
                    }
                }
            }
            return result
        }
        return TimeSeries(bucketSeconds: width,
                          counts: SideValues(left: series(.left), right: series(.right), truth: hasTruth ? series(.truth) : nil))
    }

    private func assemble(partitions: [PartitionReport], tallies: [[PartitionKey: PartitionTally]],
                          left: ParitySource, right: ParitySource, truth: ParitySource?) -> ParityReport {
        let hasTruth = truth != nil
        func perDay(_ role: Role) -> [String: Int64] {
            var result: [String: Int64] = [:]
            for tally in tallies[role.rawValue].values {
                for (day, rows) in tally.days { result[CivilTime.date(days: Int64(day)), default: 0] += rows }
            }
            return result
        }
        func perHour(_ role: Role) -> [String: Int64] {
            var result: [String: Int64] = [:]
            for tally in tallies[role.rawValue].values {
                for (hour, value) in tally.hours { result[CivilTime.hour(hours: hour), default: 0] += value.rows }
            }
            return result
        }
        func rows(_ role: Role) -> Int64 { tallies[role.rawValue].values.reduce(0) { $0 + $1.coverage.rowCount } }

        var problems: [String] = []
        for p in partitions where !p.parity {
            let name = "\(p.topic)[\(p.partition)]"
            func describe(_ ranges: [OffsetRange]?, _ what: String) {
                guard let ranges, !ranges.isEmpty else { return }
                problems.append("\(name): \(what): \(OffsetRanges.offsetCount(ranges)) offsets in \(ranges.count) range(s): \(ranges.prefix(options.textRangeLimit).map { "[\($0.first), \($0.last)]" }.joined(separator: ", "))\(ranges.count > options.textRangeLimit ? ", ..." : "")")
            }
            func describe(_ duplicates: [DuplicateRange]?, _ side: String) {
                guard let duplicates, !duplicates.isEmpty else { return }
                let extra = duplicates.reduce(0) { $0 + $1.extraRows }
                problems.append("\(name): duplicate offsets on \(side): \(extra) extra row(s): \(duplicates.prefix(options.textRangeLimit).map { "[\($0.first), \($0.last)]×\($0.count)" }.joined(separator: ", "))\(duplicates.count > options.textRangeLimit ? ", ..." : "")")
            }
            describe(p.missingInLeft, "missing in left")
            describe(p.missingInRight, "missing in right")
            describe(p.missingInLeftVsTruth, "missing in left vs truth")
            describe(p.missingInRightVsTruth, "missing in right vs truth")
            describe(p.missingInTruth, "missing in truth")
            describe(p.duplicatesLeft, "left")
            describe(p.duplicatesRight, "right")
            describe(p.duplicatesTruth, "truth")
            describe(p.payloadMismatches, "payload differs between left and right")
            describe(p.payloadMismatchesLeftVsTruth, "payload differs between left and truth")
            describe(p.payloadMismatchesRightVsTruth, "payload differs between right and truth")
        }
        let health = SideValues(left: left.health, right: right.health, truth: nil as TableHealth?)
        for (side, value) in [("left", health.left), ("right", health.right)] {
            for problem in value?.problems ?? [] { problems.append("\(side) table \(value!.table): \(problem)") }
        }

        let summary = ParityReport.Summary(
            partitions: partitions.count,
            mismatchedPartitions: partitions.filter { !$0.parity }.count,
            rows: SideValues(left: rows(.left), right: rows(.right), truth: hasTruth ? rows(.truth) : nil),
            missingInLeftOffsets: partitions.reduce(0) { $0 + OffsetRanges.offsetCount($1.allMissingInLeft) },
            missingInRightOffsets: partitions.reduce(0) { $0 + OffsetRanges.offsetCount($1.allMissingInRight) },
            duplicateRowsLeft: partitions.reduce(0) { $0 + $1.duplicatesLeft.reduce(0) { $0 + $1.extraRows } },
            duplicateRowsRight: partitions.reduce(0) { $0 + $1.duplicatesRight.reduce(0) { $0 + $1.extraRows } },
            payloadMismatchOffsets: partitions.reduce(0) { $0 + OffsetRanges.offsetCount($1.payloadMismatches ?? []) + OffsetRanges.offsetCount($1.payloadMismatchesLeftVsTruth ?? []) + OffsetRanges.offsetCount($1.payloadMismatchesRightVsTruth ?? []) },
            retentionDroppedOffsets: partitions.reduce(0) { $0 + OffsetRanges.offsetCount($1.allRetentionDropped) },
            problems: problems)

        let scope = options.scope
        return ParityReport(
            parity: problems.isEmpty,
            generatedAt: CivilTime.timestamp(micros: Int64(Date().timeIntervalSince1970 * 1e6)),
            payloadCompared: options.comparePayload,
            scope: .init(since: scope.sinceMicros.map { CivilTime.timestamp(micros: $0) },
                         until: scope.untilMicros.map { CivilTime.timestamp(micros: $0) },
                         partitions: scope.partitions.map { $0.sorted() }, offsets: scope.offsets?.description),
            sides: .init(left: left.description, right: right.description, truth: truth?.description),
            summary: summary,
            partitions: partitions,
            countsByIngestionDate: SideValues(left: perDay(.left), right: perDay(.right), truth: hasTruth ? perDay(.truth) : nil),
            countsByHour: SideValues(left: perHour(.left), right: perHour(.right), truth: hasTruth ? perHour(.truth) : nil),
            countsOverTime: timeSeries(tallies, hasTruth: hasTruth),
            health: health)
    }
}

public enum ParityError: Error, CustomStringConvertible {
    case sourceBroke(String, String)

    public var description: String {
        switch self {
        case .sourceBroke(let source, let message): return "\(source): \(message)"
        }
    }
}
