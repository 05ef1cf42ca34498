/// What a reader will read: the open segment files and, per selected stream, the blocks to visit in sequence
/// order. Built before a single record is returned, so a listing found stale can be thrown away and taken again.
struct ReadPlan {
    var files: [SegmentFile] = []
    var perStream: [StreamKey: [PlannedBlock]] = [:]
    var tornTails = 0
    var corruptRegions = 0
    /// Diagnostics of the plan, passed on only once the reader is built (a discarded attempt says nothing).
    var messages: [String] = []

    /// Opens and scans `segments` (index, or block headers of an unsealed segment) and plans the selected blocks.
    ///
    /// Throws `SegmentDirectory.ListingChanged` when a listed segment is gone (deleted since the listing) or when
    /// two blocks of a stream overlap in sequence: sequences rise strictly within a stream across the whole log,
    /// and compaction keeps every record's sequence, so two blocks holding the same sequence are a compaction's old
    /// and new segments seen together (a listing taken while its roll-forward ran) — or, if it persists, segments
    /// of another log copied in. Either way reading both would return records twice: never done.
    static func make(segments: [SegmentDirectory.Entry], selection: ReadSelection, skipCorrupt: Bool) throws -> ReadPlan {
        var plan = ReadPlan()
        var scanned: [(entry: SegmentDirectory.Entry, info: SegmentInfo)] = []
        var latestByWriter: [UInt64: UInt64] = [:]
        var messages: [String] = []
        for entry in segments {
            let file = try SegmentDirectory.openListed(entry)
            let info = try SegmentScanner.scan(file: file, id: entry.id, verifyPayloads: false, lenient: skipCorrupt,
                                               diagnostics: { messages.append($0) })
            plan.files.append(file)
            scanned.append((entry, info))
            if let writer = info.header?.writerId { latestByWriter[writer] = max(latestByWriter[writer] ?? 0, entry.id) }
        }
        var ranges = SequenceRanges()
        for (index, (entry, info)) in scanned.enumerated() {
            // A writer seals a segment before it creates its next one: an unsealed segment whose writer went on
            // to a later segment was sealed once and has been cut short since. Its torn tail is lost data.
            let superseded = !info.sealed && info.header.map { latestByWriter[$0.writerId]! > entry.id } ?? false
            if let region = info.corruptRegions.first {
                if !skipCorrupt {
                    throw SegmentLogError.corrupt(entry.path, region.offset, "\(region.reason); \(SegmentFormat.corruptionAdvice(segment: entry.path))")
                }
                for region in info.corruptRegions {
                    plan.corruptRegions += 1
                    messages.append("\(entry.path) at byte offset \(region.offset): skipped \(region.reason)")
                }
            }
            if let torn = info.tornTailOffset, superseded {
                let problem = "segment cut short: \(info.fileSize - torn) bytes of a partial block and no index, yet its writer went on to a later segment, so it had been sealed"
                if !skipCorrupt { throw SegmentLogError.corrupt(entry.path, torn, "\(problem); \(SegmentFormat.corruptionAdvice(segment: entry.path))") }
                plan.corruptRegions += 1
                messages.append("\(entry.path) at byte offset \(torn): \(problem); read up to it")
            } else if let torn = info.tornTailOffset {
                plan.tornTails += 1
                messages.append("\(entry.path) at byte offset \(torn): torn tail of an unsealed segment (\(info.fileSize - torn) bytes); reading ends there")
            }
            for (i, block) in info.blocks.enumerated() where selection.includes(block.key) {
                // Every block of a selected stream, pruned or not, takes part in the overlap check: a stale mixture
                // shows there even when the selected range happens to avoid it.
                ranges.add(block, path: entry.path)
                guard selection.mayInclude(block, minimumSequence: selection.minimumSequence(block.key)) else { continue }
                let last = !info.sealed && !superseded && info.tornTailOffset == nil && i == info.blocks.count - 1
                plan.perStream[block.key, default: []].append(
                    PlannedBlock(segment: index, info: block, sealed: info.sealed, endsUnsealedSegment: last, dataEnd: info.dataEnd))
            }
        }
        if let overlap = ranges.overlaps().first {
            throw SegmentDirectory.ListingChanged(error: SegmentLogError(.corrupt, file: overlap.file, offset: overlap.offset,
                                                                         overlap.message + "; nothing was read rather than records twice"))
        }
        for key in plan.perStream.keys {
            plan.perStream[key]!.sort {
                ($0.info.firstSequence, $0.segment, $0.info.offset) < ($1.info.firstSequence, $1.segment, $1.info.offset)
            }
        }
        plan.messages = messages
        return plan
    }
}
