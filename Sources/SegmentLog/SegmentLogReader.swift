/// Reads a log directory: selected records in log order (sequence order within a stream; across streams,
/// receive-time order), holding one decompressed block per stream.
public final class SegmentLogReader {
    // One thread reads: no dynamic exclusivity check per record on these.
    @exclusivity(unchecked) private var cursors: [StreamCursor] = []
    @exclusivity(unchecked) private var heap: [Int] = []     // cursor indices, min-heap by (headTime, index)
    private var started = false
    private let loader: BlockLoader

    /// Seeks with the segment indexes (time, sequence) instead of scanning; an unsealed segment's torn tail is
    /// its end (reported through diagnostics, not an error). With skipCorrupt=false a bad block throws an error
    /// naming the segment file and byte offset; with true it is skipped and counted.
    public convenience init(directory: String, selection: ReadSelection = .all, skipCorrupt: Bool = false,
                            diagnostics: @escaping (String) -> Void) throws {
        let segments = try SegmentDirectory.segments(directory)
        try self.init(segments: segments, selection: selection, skipCorrupt: skipCorrupt, diagnostics: diagnostics)
    }

    /// Reads exactly these segment files (the compactor's inputs).
    init(segments: [SegmentDirectory.Entry], selection: ReadSelection, skipCorrupt: Bool,
         diagnostics: @escaping (String) -> Void) throws {
        var files: [SegmentFile] = []
        var perStream: [StreamKey: [PlannedBlock]] = [:]
        var tornTails = 0
        var corruptRegions = 0
        var scanned: [(entry: SegmentDirectory.Entry, file: SegmentFile, info: SegmentInfo)] = []
        var latestByWriter: [UInt64: UInt64] = [:]
        for entry in segments {
            let file = try SegmentFile.openRead(entry.path)
            let info = try SegmentScanner.scan(file: file, id: entry.id, verifyPayloads: false, lenient: skipCorrupt,
                                               diagnostics: diagnostics)
            scanned.append((entry, file, info))
            if let writer = info.header?.writerId { latestByWriter[writer] = max(latestByWriter[writer] ?? 0, entry.id) }
        }
        for (entry, file, info) in scanned {
            // A writer seals a segment before it creates its next one: an unsealed segment whose writer went on
            // to a later segment was sealed once and has been cut short since. Its torn tail is lost data.
            let superseded = !info.sealed && info.header.map { latestByWriter[$0.writerId]! > entry.id } ?? false
            let index = files.count
            files.append(file)
            if let region = info.corruptRegions.first {
                if !skipCorrupt {
                    throw SegmentLogError.corrupt(entry.path, region.offset, "\(region.reason) (use --skip-corrupt to skip it)")
                }
                for region in info.corruptRegions {
                    corruptRegions += 1
                    diagnostics("\(entry.path) at byte offset \(region.offset): skipped \(region.reason)")
                }
            }
            if let torn = info.tornTailOffset, superseded {
                let problem = "segment cut short: \(info.fileSize - torn) bytes of a partial block and no index, yet its writer went on to a later segment, so it had been sealed"
                if !skipCorrupt { throw SegmentLogError.corrupt(entry.path, torn, "\(problem) (use --skip-corrupt to read up to it)") }
                corruptRegions += 1
                diagnostics("\(entry.path) at byte offset \(torn): \(problem); read up to it")
            } else if let torn = info.tornTailOffset {
                tornTails += 1
                diagnostics("\(entry.path) at byte offset \(torn): torn tail of an unsealed segment (\(info.fileSize - torn) bytes); reading ends there")
            }
            for (i, block) in info.blocks.enumerated() where selection.includes(block.key) {
                guard selection.mayInclude(block, minimumSequence: selection.minimumSequence(block.key)) else { continue }
                let last = !info.sealed && !superseded && info.tornTailOffset == nil && i == info.blocks.count - 1
                perStream[block.key, default: []].append(
                    PlannedBlock(segment: index, info: block, sealed: info.sealed, endsUnsealedSegment: last))
            }
        }
        loader = BlockLoader(files: files, skipCorrupt: skipCorrupt, diagnostics: diagnostics)
        loader.statistics.tornTails = tornTails
        loader.statistics.corruptBlocksSkipped = corruptRegions
        for key in perStream.keys.sorted() {
            let blocks = perStream[key]!.sorted {
                ($0.info.firstSequence, $0.segment, $0.info.offset) < ($1.info.firstSequence, $1.segment, $1.info.offset)
            }
            cursors.append(StreamCursor(key: key, blocks: blocks, selection: selection))
        }
    }

    /// Records in log order: sequence order within a stream; across streams, receive-time order.
    public func next() throws -> LogRecord? {
        var record = LogRecord(receiveTimeNanos: 0, source: "", stream: "", payload: [])
        return try next(into: &record) ? record : nil
    }

    /// Like `next()`, but overwrites `record` in place and reuses its payload's storage when `record` holds the
    /// only reference to it, so a loop reading millions of records does not allocate one payload each.
    /// Returns false (leaving `record` unchanged) at the end.
    public func next(into record: inout LogRecord) throws -> Bool {
        try startIfNeeded()
        guard let top = heap.first else { return false }
        let cursor = cursors[top]
        do {
            // A local reference (scoped, so the next block load can reuse the buffer in place).
            let buffer = cursor.buffer
            record.kind = cursor.headKind
            record.flags = RecordFlags(rawValue: cursor.headFlags)
            record.receiveTimeNanos = cursor.headTime
            record.sequence = cursor.headSequence
            record.source = cursor.source
            record.stream = cursor.stream
            record.kafka = cursor.headKafka
            record.gapExpected = cursor.headGapExpected
            record.gapSeen = cursor.headGapSeen
            buffer.withUnsafeBytes { raw in
                record.payload.removeAll(keepingCapacity: true)
                record.payload.append(contentsOf: UnsafeRawBufferPointer(
                    rebasing: raw[cursor.headPayloadStart..<(cursor.headPayloadStart + cursor.headPayloadCount)]))
            }
        }
        try moveOn(cursor)
        return true
    }

    /// The streams of the records this reader can return; `LogRecordView.streamIndex` indexes it.
    public var streamKeys: [StreamKey] { cursors.map(\.key) }

    /// Like `next(into:)`, but hands the record to `body` as a view into the reader's block buffer: nothing is
    /// copied or retained per record (for a consumer that copies the payload somewhere itself). The view is
    /// valid only during the call. Returns false at the end (without calling `body`).
    public func next(view body: (LogRecordView) throws -> Void) throws -> Bool {
        try startIfNeeded()
        guard let top = heap.first else { return false }
        let cursor = cursors[top]
        do {
            let buffer = cursor.buffer
            try buffer.withUnsafeBytes { raw in
                try body(LogRecordView(
                    kind: cursor.headKind, flags: RecordFlags(rawValue: cursor.headFlags), receiveTimeNanos: cursor.headTime,
                    sequence: cursor.headSequence, streamIndex: top,
                    payload: UnsafeRawBufferPointer(rebasing: raw[cursor.headPayloadStart..<(cursor.headPayloadStart + cursor.headPayloadCount)]),
                    kafka: cursor.headKafka, gapExpected: cursor.headGapExpected, gapSeen: cursor.headGapSeen))
            }
        }
        try moveOn(cursor)
        return true
    }

    private func startIfNeeded() throws {
        guard !started else { return }
        started = true
        for i in cursors.indices {
            try loader.advance(cursors[i])
            if cursors[i].hasHead { push(i) }
        }
    }

    /// After the head record of `cursor` (the heap's top) was taken: the cursor's next record takes its place.
    @inline(__always)
    private func moveOn(_ cursor: StreamCursor) throws {
        loader.statistics.records += 1
        try loader.advance(cursor)
        if cursor.hasHead {
            siftDown(0)
        } else {
            let last = heap.removeLast()
            if !heap.isEmpty {
                heap[0] = last
                siftDown(0)
            }
        }
    }

    public var statistics: ReadStatistics { loader.statistics }

    /// The streams present in the log (from indexes/headers), for planning and sharding.
    public static func streams(in directory: String) throws -> [StreamKey] {
        var keys = Set<StreamKey>()
        for entry in try SegmentDirectory.segments(directory) {
            let info = try SegmentScanner.scan(path: entry.path, id: entry.id, verifyPayloads: false, lenient: true, diagnostics: { _ in })
            for block in info.blocks { keys.insert(block.key) }
        }
        return keys.sorted()
    }

    // MARK: heap

    @inline(__always) private func less(_ a: Int, _ b: Int) -> Bool {
        let ta = cursors[a].headTime, tb = cursors[b].headTime
        return ta != tb ? ta < tb : a < b
    }

    private func push(_ i: Int) {
        heap.append(i)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    @inline(__always) private func siftDown(_ start: Int) {
        var parent = start
        let n = heap.count
        while true {
            let left = 2 * parent + 1
            if left >= n { return }
            var smallest = left
            if left + 1 < n, less(heap[left + 1], heap[left]) { smallest = left + 1 }
            guard less(heap[smallest], heap[parent]) else { return }
            heap.swapAt(smallest, parent)
            parent = smallest
        }
    }
}
