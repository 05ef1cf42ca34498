/// Per stream, the sequence ranges of blocks across segments. Sequences rise strictly within a stream across the
/// whole log and compaction keeps them, so two blocks holding the same sequence mean a compaction's old and new
/// segments seen together, or segments of another log copied in: records would be read twice.
struct SequenceRanges {
    private struct Range {
        var first: UInt64
        var last: UInt64
        var path: String
        var offset: Int64
    }

    private var byStream: [StreamKey: [Range]] = [:]

    mutating func add(_ block: BlockInfo, path: String) {
        byStream[block.key, default: []].append(Range(first: block.firstSequence, last: block.lastSequence, path: path, offset: block.offset))
    }

    /// Per stream with an overlap (in key order), the first one: an error naming the later block's file and byte
    /// offset, and the earlier block it overlaps.
    func overlaps() -> [SegmentLogError] {
        var found: [SegmentLogError] = []
        for key in byStream.keys.sorted() {
            // Ties by path and offset: file names order segment ids, so the report does not depend on hashing.
            let sorted = byStream[key]!.sorted { ($0.first, $0.path, $0.offset) < ($1.first, $1.path, $1.offset) }
            var highest = sorted[0]
            for range in sorted.dropFirst() {
                if range.first <= highest.last {
                    found.append(SegmentLogError.corrupt(range.path, range.offset,
                        "stream \(key): block of sequences \(range.first)...\(range.last) overlaps sequences \(highest.first)...\(highest.last) of \(highest.path) at byte offset \(highest.offset); two segments hold the same sequence numbers (a compaction's old and new segments seen together, or segments of another log copied in)"))
                    break
                }
                if range.last > highest.last { highest = range }
            }
        }
        return found
    }
}
