import Codecs

/// A block a reader will visit: which segment, where, and whether it ends an unsealed segment (then a bad
/// payload there is a torn tail, not corruption).
struct PlannedBlock {
    var segment: Int
    var info: BlockInfo
    var sealed: Bool
    var endsUnsealedSegment: Bool
    /// The segment's `SegmentInfo.dataEnd`: the block must end before it.
    var dataEnd: Int64
}

/// Reads one stream's planned blocks in sequence order, one decompressed block in memory at a time, and
/// exposes the next selected record's fields without allocating. Used by one reader on one thread: the
/// per-record fields skip the runtime's dynamic exclusivity check (measurable per record).
final class StreamCursor {
    let key: StreamKey
    let source: String
    let stream: String
    @exclusivity(unchecked) var blocks: [PlannedBlock]
    @exclusivity(unchecked) var blockIndex = 0
    let minimumSequence: UInt64
    let maximumSequence: UInt64
    let fromTime: Int64
    let untilTime: Int64
    let kindMask: UInt32

    @exclusivity(unchecked) var buffer: [UInt8] = []
    @exclusivity(unchecked) var position = 0
    @exclusivity(unchecked) var remaining: UInt32 = 0
    @exclusivity(unchecked) var previousTime: Int64 = 0
    @exclusivity(unchecked) var previousSequence: UInt64 = 0
    @exclusivity(unchecked) var current: PlannedBlock?
    /// The last sequence of the blocks visited so far: the next block must start above it.
    @exclusivity(unchecked) var passedSequence: UInt64 = 0

    // The head record (valid when hasHead).
    @exclusivity(unchecked) var hasHead = false
    @exclusivity(unchecked) var headKind: RecordKind = .data
    @exclusivity(unchecked) var headFlags: UInt8 = 0
    @exclusivity(unchecked) var headTime: Int64 = 0
    @exclusivity(unchecked) var headSequence: UInt64 = 0
    @exclusivity(unchecked) var headPayloadStart = 0
    @exclusivity(unchecked) var headPayloadCount = 0
    @exclusivity(unchecked) var headKafka: KafkaCoordinates?
    @exclusivity(unchecked) var headGapExpected: Int64?
    @exclusivity(unchecked) var headGapSeen: Int64?
    @exclusivity(unchecked) var finished = false

    init(key: StreamKey, blocks: [PlannedBlock], selection: ReadSelection) {
        self.key = key
        source = key.source
        stream = key.stream
        self.blocks = blocks
        minimumSequence = selection.minimumSequence(key)
        maximumSequence = selection.untilSequence ?? UInt64.max
        fromTime = selection.fromTimeNanos ?? Int64.min
        untilTime = selection.untilTimeNanos ?? Int64.max
        var mask: UInt32 = 0
        for k in selection.kinds ?? Set(RecordKind.allCases) { mask |= 1 << UInt32(k.rawValue) }
        kindMask = mask
    }
}

/// Block loading and record decoding for a cursor; owned by the reader, which holds the files and compressor.
/// A class, not a struct held by the reader: a mutating call on a struct stored in a class is a dynamic
/// exclusivity check per record, measurable on the read path.
final class BlockLoader {
    var files: [SegmentFile]
    let skipCorrupt: Bool
    let diagnostics: (String) -> Void
    let compressor = BlockCompressor()
    var raw: [UInt8] = []
    var statistics = ReadStatistics()

    enum Outcome { case loaded, skipped, torn }

    init(files: [SegmentFile], skipCorrupt: Bool, diagnostics: @escaping (String) -> Void) {
        self.files = files
        self.skipCorrupt = skipCorrupt
        self.diagnostics = diagnostics
    }

    /// Reads, checks and decompresses `planned` into the cursor's buffer.
    func load(_ planned: PlannedBlock, into cursor: StreamCursor) throws -> Outcome {
        let file = files[planned.segment]
        let expected = planned.info
        let headerLength = SegmentFormat.blockHeaderSize + expected.keyBytes
        do {
            let got = try file.read(at: expected.offset, count: headerLength, into: &raw)
            guard got == headerLength else { throw Bad.problem("block header cut short (\(got) of \(headerLength) bytes)") }
            let header: BlockInfo
            do {
                header = try raw.withUnsafeBytes {
                    try BlockInfo.decodeHeaderOrThrow(UnsafeRawBufferPointer(rebasing: $0[0..<headerLength]), offset: expected.offset)
                }
            } catch let invalid as BlockInfo.InvalidHeader {
                throw Bad.problem(invalid.reason)
            }
            guard header.key == expected.key, header.firstSequence == expected.firstSequence,
                  header.lastSequence == expected.lastSequence, header.recordCount == expected.recordCount,
                  header.minTime == expected.minTime, header.maxTime == expected.maxTime
            else { throw Bad.problem("block header does not match the segment index") }
            // The payload is read into memory: its size must fit the segment before it is trusted.
            guard header.end <= planned.dataEnd else {
                throw Bad.problem("block header claims a \(header.compressedSize)-byte payload, past the end of the segment's blocks (byte \(planned.dataEnd))")
            }
            let n = Int(header.compressedSize)
            let read = try file.read(at: header.payloadOffset, count: n, into: &raw)
            guard read == n else { throw Bad.problem("block payload cut short (\(read) of \(n) bytes)") }
            let crc = raw.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            guard crc == header.payloadCRC else { throw Bad.problem("block payload does not match its CRC32C") }
            cursor.buffer.removeAll(keepingCapacity: true)
            do {
                try raw.withUnsafeBytes {
                    try compressor.decompress(UnsafeRawBufferPointer(rebasing: $0[0..<n]), codec: header.codec,
                                              uncompressedSize: Int(header.uncompressedSize), into: &cursor.buffer)
                }
            } catch {
                throw Bad.problem("block payload does not decompress: \(error)")
            }
            cursor.current = planned
            cursor.current!.info = header
            cursor.position = 0
            cursor.remaining = header.recordCount
            cursor.previousTime = 0
            cursor.previousSequence = 0
            statistics.blocks += 1
            return .loaded
        } catch Bad.problem(let problem) {
            return try reject(planned, problem: problem)
        }
    }

    enum Bad: Error { case problem(String) }

    /// A bad block: the torn tail of an unsealed segment, a skipped corrupt block, or an error.
    func reject(_ planned: PlannedBlock, problem: String) throws -> Outcome {
        let path = files[planned.segment].path
        if planned.endsUnsealedSegment {
            statistics.tornTails += 1
            diagnostics("\(path) at byte offset \(planned.info.offset): torn tail of an unsealed segment (\(problem)); reading ends there")
            return .torn
        }
        if skipCorrupt {
            statistics.corruptBlocksSkipped += 1
            diagnostics("\(path) at byte offset \(planned.info.offset): skipped a corrupt block of \(planned.info.key) (\(problem)), sequences \(planned.info.firstSequence)...\(planned.info.lastSequence)")
            return .skipped
        }
        throw SegmentLogError.corrupt(path, planned.info.offset, "corrupt block of \(planned.info.key): \(problem); \(SegmentFormat.corruptionAdvice(segment: path))")
    }

    /// Moves `cursor` to its next selected record (sets hasHead), loading blocks as needed.
    @inline(__always)
    func advance(_ cursor: StreamCursor) throws {
        cursor.hasHead = false
        while !cursor.finished {
            if cursor.remaining == 0 {
                if let cur = cursor.current {
                    // End of a block: it must decode to exactly its payload and its header's last sequence.
                    cursor.current = nil
                    if cursor.position != cursor.buffer.count || cursor.previousSequence != cur.info.lastSequence {
                        if try reject(cur, problem: "records do not match the block header") == .torn { cursor.finished = true }
                    }
                    continue
                }
                guard cursor.blockIndex < cursor.blocks.count else { cursor.finished = true; return }
                let planned = cursor.blocks[cursor.blockIndex]
                // The plan already refused overlapping blocks; this keeps "never a sequence twice" a property of
                // the cursor itself, whatever built its blocks.
                if cursor.blockIndex > 0 && planned.info.firstSequence <= cursor.passedSequence {
                    throw SegmentLogError.corrupt(files[planned.segment].path, planned.info.offset, "stream \(cursor.key): block starts at sequence \(planned.info.firstSequence), not above sequence \(cursor.passedSequence) already passed; refusing to return records twice")
                }
                cursor.passedSequence = planned.info.lastSequence
                cursor.blockIndex += 1
                switch try load(planned, into: cursor) {
                case .loaded: break
                case .skipped: continue
                case .torn: cursor.finished = true; return
                }
            }
            let decoded: Bool
            do {
                decoded = try decodeHead(cursor)
            } catch {
                let cur = cursor.current!
                cursor.current = nil
                cursor.remaining = 0
                if try reject(cur, problem: "records do not decode") == .torn { cursor.finished = true }
                continue
            }
            if decoded { cursor.hasHead = true; return }
            if cursor.headSequence > cursor.maximumSequence { cursor.finished = true; return }
        }
    }

    /// Decodes the record at the cursor's position; returns whether the selection wants it.
    @inline(__always)
    private func decodeHead(_ cursor: StreamCursor) throws -> Bool {
        let buffer = cursor.buffer   // a local reference: no exclusivity check on the class property per record
        let selected: Bool = try buffer.withUnsafeBytes { raw in
            var c = ByteCursor(raw, position: cursor.position)
            let kindByte = try c.u8()
            guard let kind = RecordKind(rawValue: kindByte) else { throw ByteCursor.Overrun() }
            let flags = try c.u8()
            let fields = try c.u8()
            let time = cursor.previousTime &+ (try c.zigzag())
            let delta = try c.varint()
            let sequence = cursor.previousSequence &+ delta
            guard delta > 0 || cursor.remaining == cursor.current!.info.recordCount else { throw ByteCursor.Overrun() }
            let length = try c.varint()
            guard length <= UInt64(c.remaining) else { throw ByteCursor.Overrun() }
            let payloadStart = c.position
            try c.skip(Int(length))
            var kafka: KafkaCoordinates? = nil
            var gapExpected: Int64? = nil, gapSeen: Int64? = nil
            if fields != 0 {
                if fields & RecordEncoding.hasKafka != 0 { kafka = try RecordEncoding.decodeKafka(&c) }
                if fields & RecordEncoding.hasGapExpected != 0 { gapExpected = try c.zigzag() }
                if fields & RecordEncoding.hasGapSeen != 0 { gapSeen = try c.zigzag() }
            }
            cursor.position = c.position
            cursor.remaining -= 1
            cursor.previousTime = time
            cursor.previousSequence = sequence
            cursor.headSequence = sequence
            if cursor.remaining == cursor.current!.info.recordCount - 1, sequence != cursor.current!.info.firstSequence {
                throw ByteCursor.Overrun()
            }
            guard sequence >= cursor.minimumSequence, sequence <= cursor.maximumSequence,
                  time >= cursor.fromTime, time < cursor.untilTime,
                  cursor.kindMask & (1 << UInt32(kindByte)) != 0 else { return false }
            cursor.headKind = kind
            cursor.headFlags = flags
            cursor.headTime = time
            cursor.headPayloadStart = payloadStart
            cursor.headPayloadCount = Int(length)
            cursor.headKafka = kafka
            cursor.headGapExpected = gapExpected
            cursor.headGapSeen = gapSeen
            return true
        }
        return selected
    }
}
