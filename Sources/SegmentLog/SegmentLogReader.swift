/// Reads a log directory: selected records in log order (sequence order within a stream; across streams,
/// receive-time order), holding one decompressed block per stream.
public final class SegmentLogReader {
    // One thread reads: no dynamic exclusivity check per record on these.
    @exclusivity(unchecked) private var cursors: [StreamCursor] = []
    @exclusivity(unchecked) private var heap: [Int] = []     // cursor indices, min-heap by (headTime, index)
    private var started = false
    private let loader: BlockLoader

    /// How many records the blocks this reader will visit hold, from the segment indexes (no block is read):
    /// at least the records it returns, more when the selection starts or ends inside a block or leaves out
    /// some kinds (control records). For progress and ETA without a counting pass over the log.
    public let plannedRecordCount: Int

    /// Seeks with the segment indexes (time, sequence) instead of scanning; an unsealed segment's torn tail is
    /// its end (reported through diagnostics, not an error). With skipCorrupt=false a bad block throws an error
    /// naming the segment file and byte offset; with true it is skipped and counted.
    ///
    /// Safe beside a compaction finishing: the listing is retried while the directory changes under it, and a
    /// stream whose blocks overlap in sequence (old and new segments seen together) is never read twice: the
    /// reader lists again, and refuses with an error naming the files if the overlap stays.
    public convenience init(directory: String, selection: ReadSelection = .all, skipCorrupt: Bool = false,
                            diagnostics: @escaping (String) -> Void) throws {
        try self.init(directory: directory, selection: selection, skipCorrupt: skipCorrupt, diagnostics: diagnostics,
                      listingHook: nil)
    }

    /// `listingHook`: for tests that change the directory while it is listed.
    convenience init(directory: String, selection: ReadSelection, skipCorrupt: Bool, diagnostics: @escaping (String) -> Void,
                     listingHook: SegmentDirectory.ListingHook?) throws {
        let plan = try SegmentDirectory.withStableSegments(directory, hook: listingHook) {
            try ReadPlan.make(segments: $0, selection: selection, skipCorrupt: skipCorrupt)
        }
        self.init(plan: plan, selection: selection, skipCorrupt: skipCorrupt, diagnostics: diagnostics)
    }

    /// Reads exactly these segment files (the compactor's inputs).
    convenience init(segments: [SegmentDirectory.Entry], selection: ReadSelection, skipCorrupt: Bool,
                     diagnostics: @escaping (String) -> Void) throws {
        let plan: ReadPlan
        do {
            plan = try ReadPlan.make(segments: segments, selection: selection, skipCorrupt: skipCorrupt)
        } catch let changed as SegmentDirectory.ListingChanged {
            throw changed.error
        }
        self.init(plan: plan, selection: selection, skipCorrupt: skipCorrupt, diagnostics: diagnostics)
    }

    init(plan: ReadPlan, selection: ReadSelection, skipCorrupt: Bool, diagnostics: @escaping (String) -> Void) {
        for message in plan.messages { diagnostics(message) }
        loader = BlockLoader(files: plan.files, skipCorrupt: skipCorrupt, diagnostics: diagnostics)
        loader.statistics.tornTails = plan.tornTails
        loader.statistics.corruptBlocksSkipped = plan.corruptRegions
        for key in plan.perStream.keys.sorted() {
            cursors.append(StreamCursor(key: key, blocks: plan.perStream[key]!, selection: selection))
        }
        plannedRecordCount = plan.perStream.values.reduce(0) { total, blocks in
            blocks.reduce(total) { $0 + Int($1.info.recordCount) }
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
        try SegmentDirectory.withStableSegments(directory) { entries in
            var keys = Set<StreamKey>()
            for entry in entries {
                let file = try SegmentDirectory.openListed(entry)
                let info = try SegmentScanner.scan(file: file, id: entry.id, verifyPayloads: false, lenient: true, diagnostics: { _ in })
                for block in info.blocks { keys.insert(block.key) }
            }
            return keys.sorted()
        }
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
