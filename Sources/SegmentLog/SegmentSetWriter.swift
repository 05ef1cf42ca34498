import Codecs

/// One stream's open block: its records encoded but not yet compressed or written.
final class OpenBlock {
    let key: StreamKey
    var buffer: [UInt8] = []
    var count: UInt32 = 0
    var firstSequence: UInt64 = 0
    var lastSequence: UInt64 = 0
    var minTime: Int64 = 0
    var maxTime: Int64 = 0
    var previousTime: Int64 = 0
    /// The last sequence appended to this stream (kept across blocks; the writer assigns the next one).
    var lastAssigned: UInt64

    init(key: StreamKey, lastAssigned: UInt64, capacity: Int) {
        self.key = key
        self.lastAssigned = lastAssigned
        buffer.reserveCapacity(capacity)
    }

    @inline(__always) func add(_ record: LogRecord, sequence: UInt64) {
        let t = record.receiveTimeNanos
        if count == 0 {
            firstSequence = sequence
            minTime = t
            maxTime = t
            RecordEncoding.append(record, sequence: sequence, previousTime: 0, previousSequence: 0, to: &buffer)
        } else {
            if t < minTime { minTime = t }
            if t > maxTime { maxTime = t }
            RecordEncoding.append(record, sequence: sequence, previousTime: previousTime, previousSequence: lastSequence, to: &buffer)
        }
        previousTime = t
        lastSequence = sequence
        count += 1
    }

    @inline(__always) func addFrame(kind: RecordKind, flags: RecordFlags, receiveTimeNanos t: Int64, payload: UnsafeRawBufferPointer,
                                    sequence: UInt64) {
        if count == 0 {
            firstSequence = sequence
            minTime = t
            maxTime = t
            RecordEncoding.appendFrame(kind: kind, flags: flags, receiveTimeNanos: t, payload: payload, sequence: sequence,
                                       previousTime: 0, previousSequence: 0, to: &buffer)
        } else {
            if t < minTime { minTime = t }
            if t > maxTime { maxTime = t }
            RecordEncoding.appendFrame(kind: kind, flags: flags, receiveTimeNanos: t, payload: payload, sequence: sequence,
                                       previousTime: previousTime, previousSequence: lastSequence, to: &buffer)
        }
        previousTime = t
        lastSequence = sequence
        count += 1
    }

    func reset() {
        buffer.removeAll(keepingCapacity: true)
        count = 0
    }
}

/// Writes blocks into a series of segment files: one open block per stream, rolling by size and age, sealing
/// each segment with its index. Shared by `SegmentLogWriter` (live names, assigned sequences) and the compactor
/// (temporary names, sequences kept).
final class SegmentSetWriter {
    struct Current {
        var file: SegmentFile
        var size: Int64
        var blocks: [BlockInfo]
        var createdMonotonic: Int64
        var name: String
    }

    let directory: String
    let options: SegmentLogWriterOptions
    let nameSuffix: String
    let writerId: UInt64
    private let codecByte: UInt8
    private let codecLevel: Int8
    private(set) var nextSegmentId: UInt64
    private(set) var current: Current?
    private(set) var blocks: [StreamKey: OpenBlock] = [:]
    private var cached: OpenBlock?
    /// Per stream, the last sequence written to a file / known durable.
    private(set) var written: [StreamKey: UInt64] = [:]
    private(set) var synced: [StreamKey: UInt64] = [:]
    /// Final names (without the temporary suffix) of the segments this writer created.
    private(set) var createdNames: [String] = []
    private var lastSyncMonotonic: Int64
    private let compressor = BlockCompressor()
    private var compressed: [UInt8] = []
    private var output: [UInt8] = []
    private let syncsOnWrite: Bool
    private let intervalNanos: Int64?
    var onSegmentCreated: ((String) throws -> Void)?

    init(directory: String, options: SegmentLogWriterOptions, nameSuffix: String, firstSegmentId: UInt64,
         lastSequences: [StreamKey: UInt64]) throws {
        self.directory = directory
        self.options = options
        self.nameSuffix = nameSuffix
        (codecByte, codecLevel) = try SegmentFormat.codecByte(options.codec)
        guard options.blockBytes > 0, options.blockBytes <= SegmentFormat.maxBlockBytes / 2 else {
            throw SegmentLogError(.usage, "blockBytes must be between 1 and \(SegmentFormat.maxBlockBytes / 2)")
        }
        nextSegmentId = firstSegmentId
        writerId = UInt64.random(in: 1...UInt64.max)
        lastSyncMonotonic = monotonicNanos()
        switch options.fsync {
        case .everyBlock: syncsOnWrite = true; intervalNanos = nil
        case .interval(let ms): syncsOnWrite = false; intervalNanos = Int64(max(0, ms)) * 1_000_000
        case .never: syncsOnWrite = false; intervalNanos = nil
        }
        for (key, seq) in lastSequences {
            blocks[key] = OpenBlock(key: key, lastAssigned: seq, capacity: 0)
            written[key] = seq
            synced[key] = seq
        }
    }

    /// The open block of a stream (created on first use).
    @inline(__always) func block(source: String, stream: String) -> OpenBlock {
        if let c = cached, c.key.source == source, c.key.stream == stream { return c }
        let key = StreamKey(source: source, stream: stream)
        let b: OpenBlock
        if let existing = blocks[key] {
            b = existing
        } else {
            b = OpenBlock(key: key, lastAssigned: 0, capacity: options.blockBytes + 1024)
            blocks[key] = b
        }
        if b.buffer.capacity == 0 { b.buffer.reserveCapacity(options.blockBytes + 1024) }
        cached = b
        return b
    }

    /// Adds a record with its sequence to its stream's open block, writing the block when full and applying the
    /// roll and fsync policies.
    @inline(__always) func append(_ record: LogRecord, sequence: UInt64, to block: OpenBlock) throws {
        block.add(record, sequence: sequence)
        block.lastAssigned = sequence
        if block.buffer.count >= options.blockBytes { try writeBlock(block) }
        if current != nil || intervalNanos != nil { try applyTimePolicies() }
    }

    /// `append` for a frame with borrowed payload bytes (see `SegmentLogWriter.appendFrame`).
    @inline(__always) func appendFrame(kind: RecordKind, flags: RecordFlags, receiveTimeNanos: Int64, payload: UnsafeRawBufferPointer,
                                       sequence: UInt64, to block: OpenBlock) throws {
        block.addFrame(kind: kind, flags: flags, receiveTimeNanos: receiveTimeNanos, payload: payload, sequence: sequence)
        block.lastAssigned = sequence
        if block.buffer.count >= options.blockBytes { try writeBlock(block) }
        if current != nil || intervalNanos != nil { try applyTimePolicies() }
    }

    private func applyTimePolicies() throws {
        let now = monotonicNanos()
        if let cur = current,
           cur.size >= options.segmentBytes || now - cur.createdMonotonic >= options.segmentSeconds * 1_000_000_000 {
            try seal()
        } else if let interval = intervalNanos, now - lastSyncMonotonic >= interval {
            try flushBlocks()
            try syncNow()
        }
    }

    /// Writes every non-empty open block.
    func flushBlocks() throws {
        for key in blocks.keys.sorted() where blocks[key]!.count > 0 { try writeBlock(blocks[key]!) }
    }

    func syncNow() throws {
        if let cur = current { try cur.file.sync() }
        synced = written
        lastSyncMonotonic = monotonicNanos()
    }

    private func openSegment() throws {
        let id = nextSegmentId
        nextSegmentId += 1
        let name = SegmentFormat.fileName(id: id)
        let path = directory + "/" + name + nameSuffix
        let file = try SegmentFile.create(path)
        let header = SegmentFileHeader(segmentId: id, writerId: writerId, createdNanos: wallClockNanos()).encode()
        do {
            try header.withUnsafeBytes { try file.write($0, at: 0) }
        } catch {
            // Nothing of it is data yet: removed now rather than left for the next writer or compaction.
            file.close()
            try? SegmentDirectory.remove(path)
            throw error
        }
        current = Current(file: file, size: Int64(header.count), blocks: [], createdMonotonic: monotonicNanos(), name: name)
        createdNames.append(name)
        try onSegmentCreated?(name)
    }

    private func writeBlock(_ block: OpenBlock) throws {
        if current == nil { try openSegment() }
        compressed.removeAll(keepingCapacity: true)
        try block.buffer.withUnsafeBytes { try compressor.compress($0, codec: options.codec, into: &compressed) }
        let crc = CRC32C.checksum(compressed)
        output.removeAll(keepingCapacity: true)
        BlockInfo.encodeHeader(
            into: &output, key: block.key, codecByte: codecByte, codecLevel: codecLevel, recordCount: block.count,
            uncompressedSize: UInt32(block.buffer.count), compressedSize: UInt32(compressed.count),
            firstSequence: block.firstSequence, lastSequence: block.lastSequence, minTime: block.minTime,
            maxTime: block.maxTime, payloadCRC: crc)
        let keyBytes = output.count - SegmentFormat.blockHeaderSize
        output.append(contentsOf: compressed)
        let offset = current!.size
        try writeAtEnd(output, at: offset)
        current!.size += Int64(output.count)
        current!.blocks.append(BlockInfo(
            offset: offset, key: block.key, codecByte: codecByte, codecLevel: codecLevel, recordCount: block.count,
            uncompressedSize: UInt32(block.buffer.count), compressedSize: UInt32(compressed.count),
            firstSequence: block.firstSequence, lastSequence: block.lastSequence, minTime: block.minTime,
            maxTime: block.maxTime, payloadCRC: crc, keyBytes: keyBytes))
        written[block.key] = block.lastSequence
        block.reset()
        if syncsOnWrite { try syncNow() }
    }

    /// Writes `bytes` at the end of the current segment. On failure (ENOSPC, EIO, EFBIG) the partial write is cut
    /// off again, so a retry or the index starts at the end of the last whole block and no stale bytes trail the
    /// footer; the error names the file and offset, and everything written before stays as it was.
    private func writeAtEnd(_ bytes: [UInt8], at offset: Int64) throws {
        let file = current!.file
        do {
            try bytes.withUnsafeBytes { try file.write($0, at: offset) }
        } catch {
            try? file.truncate(to: offset)
            throw error
        }
    }

    /// Closes and deletes every segment this writer created: for a compaction that failed before it committed
    /// (its outputs are temporaries nobody reads). Never for a live writer, whose segments hold the log.
    func abandon() {
        current?.file.close()
        current = nil
        for name in createdNames { try? SegmentDirectory.remove(directory + "/" + name + nameSuffix) }
    }

    /// Writes the open blocks, then the index and footer; fsyncs and closes the segment.
    func seal() throws {
        try flushBlocks()
        guard let cur = current else { return }
        // Blocks durable before the footer: one fdatasync over both lets the kernel write the footer page first,
        // and a power loss then leaves a segment that looks sealed over garbage (a corruption error instead of a
        // torn tail that recovery truncates).
        try cur.file.sync()
        let tail = SegmentIndex.encode(blocks: cur.blocks, indexOffset: cur.size)
        try writeAtEnd(tail, at: cur.size)
        try cur.file.sync()
        cur.file.close()
        current = nil
        synced = written
        lastSyncMonotonic = monotonicNanos()
    }
}
