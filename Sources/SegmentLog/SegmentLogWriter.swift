import Foundation

/// Appends records to a log directory. One writer per directory (an exclusive lock enforces it).
///
/// Memory is one open block per stream. Not thread-safe: call from one thread (or serialize).
public final class SegmentLogWriter {
    private let directory: String
    private let core: SegmentSetWriter
    private let lock: DirectoryLock
    private let diagnostics: (String) -> Void
    private var closed = false

    /// Opens (creating) the directory; recovers an unsealed segment left by a crashed writer (torn tail truncated,
    /// reported through `diagnostics`), and continues each stream's sequence numbers above every sequence the
    /// stream ever had: after the last record kept, or after its high-water mark when compaction removed its newest
    /// records (`sequences.high-water`), so a replay checkpoint "done up to N" never covers a new record.
    public init(directory: String, options: SegmentLogWriterOptions = .init(), diagnostics: @escaping (String) -> Void) throws {
        self.directory = directory
        self.diagnostics = diagnostics
        try SegmentDirectory.ensureDirectory(directory)
        lock = try DirectoryLock(directory: directory, holder: "a segment log writer")
        try SegmentDirectory.recover(directory, diagnostics: diagnostics)
        var last: [StreamKey: UInt64] = [:]
        var maxId: UInt64 = 0
        for entry in try SegmentDirectory.segments(directory) {
            maxId = max(maxId, entry.id)
            let info = try SegmentLogWriter.recoverSegment(entry, diagnostics: diagnostics)
            for block in info?.blocks ?? [] {
                // The stream would continue at lastSequence + 1: refused here, naming the block, not trapped later.
                guard block.lastSequence < UInt64.max else {
                    throw SegmentLogError.corrupt(entry.path, block.offset, "block of \(block.key) ends at sequence \(block.lastSequence), the largest there is, so no record could follow it; \(SegmentFormat.corruptionAdvice(segment: entry.path))")
                }
                last[block.key] = max(last[block.key] ?? 0, block.lastSequence)
            }
        }
        for (key, highest) in try SequenceHighWater.read(directory).sequences { last[key] = max(last[key] ?? 0, highest) }
        sequencesAtOpen = last
        core = try SegmentSetWriter(directory: directory, options: options, nameSuffix: "", firstSegmentId: maxId + 1,
                                    lastSequences: last)
        let dir = directory
        // A new segment's directory entry must be durable before its synced blocks count as durable. Also under
        // `.never`: sealing fsyncs the file and then counts its records in `syncedSequences`, which would be
        // untrue if the file's name could vanish with a power loss (one directory fsync per segment).
        core.onSegmentCreated = { _ in try syncDirectory(dir) }
    }

    /// Seals an unsealed segment left by a crashed writer: truncates its torn tail and writes the index over every
    /// whole block. A segment with corruption before valid blocks is left unsealed (readers report it).
    /// Returns nil when the segment held no whole block and was removed.
    static func recoverSegment(_ entry: SegmentDirectory.Entry, diagnostics: (String) -> Void) throws -> SegmentInfo? {
        let file = try SegmentFile.openReadWrite(entry.path)
        let info = try SegmentScanner.scan(file: file, id: entry.id, verifyPayloads: true, lenient: true, diagnostics: diagnostics)
        if info.sealed { return info }
        let kept = info.blocks.reduce(0) { $0 + Int($1.recordCount) }
        if info.blocks.isEmpty && info.corruptRegions.isEmpty {
            try SegmentDirectory.remove(entry.path)
            diagnostics("\(entry.path): removed an unsealed segment with no whole block (\(info.fileSize) bytes of torn tail)")
            return nil
        }
        if let torn = info.tornTailOffset {
            try file.truncate(to: torn)
            try file.sync()
            diagnostics("\(entry.path) at byte offset \(torn): truncated a torn tail of \(info.fileSize - torn) bytes left by a crashed writer; kept \(info.blocks.count) blocks, \(kept) records")
        }
        if !info.corruptRegions.isEmpty || info.header == nil {
            for region in info.corruptRegions {
                diagnostics("\(entry.path) at byte offset \(region.offset): \(region.reason); segment left unsealed")
            }
            return info
        }
        let end = info.validEnd
        try file.sync()   // the kept blocks durable before the footer that vouches for them
        let tail = SegmentIndex.encode(blocks: info.blocks, indexOffset: end)
        try tail.withUnsafeBytes { try file.write($0, at: end) }
        try file.sync()
        diagnostics("\(entry.path): sealed after recovery (\(info.blocks.count) blocks, \(kept) records)")
        return info
    }

    /// Appends a record; `record.sequence` is ignored and the assigned sequence is returned.
    @discardableResult
    public func append(_ record: LogRecord) throws -> UInt64 {
        guard !closed else { throw SegmentLogError(.usage, file: directory, "append after close") }
        let block = core.block(source: record.source, stream: record.stream)
        let sequence = try nextSequence(block)
        try core.append(record, sequence: sequence, to: block)
        return sequence
    }

    /// The stream's next sequence; an error, never an overflow trap, when none is left.
    @inline(__always) private func nextSequence(_ block: OpenBlock) throws -> UInt64 {
        let (next, overflow) = block.lastAssigned.addingReportingOverflow(1)
        guard !overflow else {
            throw SegmentLogError(.corrupt, file: directory, "stream \(block.key): sequence \(block.lastAssigned) is the largest there is; no record can follow it")
        }
        return next
    }

    /// One stream of this writer, looked up once: a capture appends its frames through it without a
    /// per-record key lookup.
    public struct Stream {
        fileprivate let block: OpenBlock
        public var key: StreamKey { block.key }
    }

    /// The stream `source`/`stream` (its sequence numbers continue those already in the log).
    public func stream(source: String, stream: String) -> Stream {
        Stream(block: core.block(source: source, stream: stream))
    }

    /// Appends a record whose payload is borrowed (copied into the open block, no array per record); the
    /// record has no Kafka coordinates or gap fields. Returns the assigned sequence.
    @discardableResult
    public func appendFrame(_ kind: RecordKind = .data, flags: RecordFlags = [], receiveTimeNanos: Int64,
                            payload: UnsafeRawBufferPointer, to stream: Stream) throws -> UInt64 {
        guard !closed else { throw SegmentLogError(.usage, file: directory, "append after close") }
        let sequence = try nextSequence(stream.block)
        try core.appendFrame(kind: kind, flags: flags, receiveTimeNanos: receiveTimeNanos, payload: payload, sequence: sequence,
                             to: stream.block)
        return sequence
    }

    /// Writes every pending block (fsync per policy).
    public func flush() throws {
        try core.flushBlocks()
        if core.options.fsync != .never { try core.syncNow() }
    }

    /// Flushes and fsyncs now.
    public func sync() throws {
        try core.flushBlocks()
        try core.syncNow()
    }

    /// Flushes, fsyncs and seals the open segment (index written). The writer cannot be used afterwards.
    public func close() throws {
        guard !closed else { return }
        closed = true
        try core.seal()
        lock.release()
    }

    deinit {
        if !closed {
            do { try close() } catch { diagnostics("closing the segment log writer of \(directory): \(error)") }
        }
    }

    /// Per stream, the last sequence known durable.
    public var syncedSequences: [StreamKey: UInt64] { core.synced }

    /// Per stream, the last sequence the log held when this writer opened it (a capture continuing a log reads
    /// each stream's last records from there).
    public let sequencesAtOpen: [StreamKey: UInt64]

    /// Per stream, the last sequence appended.
    public var lastSequences: [StreamKey: UInt64] {
        var result: [StreamKey: UInt64] = [:]
        for (key, block) in core.blocks where block.lastAssigned > 0 { result[key] = block.lastAssigned }
        return result
    }
}
