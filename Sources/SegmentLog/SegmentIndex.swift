/// The index and footer that seal a segment: one entry per block, so readers seek without scanning.
struct SegmentIndex {
    var streams: [StreamKey]
    var entries: [BlockInfo]

    /// Index region followed by the 32-byte footer, for a segment whose index starts at `indexOffset`.
    static func encode(blocks: [BlockInfo], indexOffset: Int64) -> [UInt8] {
        var streamIndex: [StreamKey: UInt32] = [:]
        var streams: [StreamKey] = []
        for block in blocks where streamIndex[block.key] == nil {
            streamIndex[block.key] = UInt32(streams.count)
            streams.append(block.key)
        }
        var b: [UInt8] = []
        b.appendLE(SegmentFormat.indexMagic)
        b.appendLE(UInt32(streams.count))
        b.appendLE(UInt32(blocks.count))
        b.appendLE(UInt32(0))
        for key in streams {
            b.appendShortString(key.source)
            b.appendShortString(key.stream)
        }
        for block in blocks {
            b.appendLE(UInt64(block.offset))
            b.appendLE(block.firstSequence)
            b.appendLE(block.lastSequence)
            b.appendLE(block.minTime)
            b.appendLE(block.maxTime)
            b.appendLE(block.recordCount)
            b.appendLE(streamIndex[block.key]!)
        }
        let indexLength = b.count
        let indexCRC = CRC32C.checksum(b)
        let footerStart = b.count
        b.appendLE(UInt64(indexOffset))
        b.appendLE(UInt64(indexLength))
        b.appendLE(indexCRC)
        b.appendLE(UInt32(blocks.count))
        let footerCRC = b.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[footerStart...])) }
        b.appendLE(footerCRC)
        b.appendLE(SegmentFormat.footerMagic)
        return b
    }

    struct Footer {
        var indexOffset: Int64
        var indexLength: Int64
        var indexCRC: UInt32
        var blockCount: UInt32
    }

    /// A footer whose magic and CRC are right but whose index does not fit the file: corruption (or a hostile
    /// file), never a segment to seek in.
    struct InvalidFooter: Error {
        var reason: String
    }

    /// nil when the last 32 bytes are not a footer (magic or CRC: the segment is then unsealed). Throws
    /// `InvalidFooter` when they are one but its index offset and length do not describe the bytes before it.
    static func decodeFooter(_ p: UnsafeRawBufferPointer, fileSize: Int64) throws -> Footer? {
        guard p.count == SegmentFormat.footerSize, fileSize >= Int64(SegmentFormat.footerSize), p.le(28, as: UInt32.self) == SegmentFormat.footerMagic,
              CRC32C.checksum(UnsafeRawBufferPointer(rebasing: p[0..<24])) == p.le(24, as: UInt32.self)
        else { return nil }
        let offset = p.le(0, as: UInt64.self), length = p.le(8, as: UInt64.self), blockCount = p.le(20, as: UInt32.self)
        // Offset and length come from the file: each is bounded by the file size before they are added or
        // converted, so no value (2^63-1, 2^64-1) can overflow the check.
        let before = UInt64(fileSize) - UInt64(SegmentFormat.footerSize)
        guard offset >= UInt64(SegmentFormat.fileHeaderSize), offset <= before, length <= before - offset,
              offset + length == before else {
            throw InvalidFooter(reason: "segment footer says the index is \(length) bytes at byte offset \(offset), which does not end where the footer starts (byte \(before) of \(fileSize))")
        }
        // 16 bytes of index header and 48 per block at least: a count the index cannot hold is refused here,
        // before anything is allocated for it.
        guard length >= 16, UInt64(blockCount) <= (length - 16) / UInt64(SegmentFormat.indexEntrySize) else {
            throw InvalidFooter(reason: "segment footer claims \(blockCount) blocks, more than its \(length)-byte index can hold")
        }
        return Footer(indexOffset: Int64(offset), indexLength: Int64(length), indexCRC: p.le(16), blockCount: blockCount)
    }

    /// Decodes an index region whose CRC was checked. Block entries carry the index's fields only
    /// (codec and sizes come from the block header when the block is read).
    static func decode(_ p: UnsafeRawBufferPointer, blockCount: UInt32) throws -> SegmentIndex {
        var c = ByteCursor(p)
        guard try c.fixed(UInt32.self) == SegmentFormat.indexMagic else { throw ByteCursor.Overrun() }
        let streamCount = Int(try c.fixed(UInt32.self))
        let count = try c.fixed(UInt32.self)
        _ = try c.fixed(UInt32.self)
        // Counts from the file are bounded by the bytes that must hold them (4 per stream name pair, 48 per
        // block) before any loop or reservation uses them.
        guard count == blockCount, streamCount <= Int(count) + 1,
              streamCount <= c.remaining / 4, Int(count) <= c.remaining / SegmentFormat.indexEntrySize
        else { throw ByteCursor.Overrun() }
        var streams: [StreamKey] = []
        for _ in 0..<streamCount {
            let source = try c.shortString()
            let stream = try c.shortString()
            streams.append(StreamKey(source: source, stream: stream))
        }
        var entries: [BlockInfo] = []
        entries.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let offset = Int64(exactly: try c.fixed(UInt64.self)) else { throw ByteCursor.Overrun() }
            let first = try c.fixed(UInt64.self), last = try c.fixed(UInt64.self)
            let minTime = try c.fixed(Int64.self), maxTime = try c.fixed(Int64.self)
            let records = try c.fixed(UInt32.self)
            let s = Int(try c.fixed(UInt32.self))
            guard s < streams.count else { throw ByteCursor.Overrun() }
            entries.append(BlockInfo(
                offset: offset, key: streams[s], codecByte: 0, codecLevel: 0, recordCount: records, uncompressedSize: 0,
                compressedSize: 0, firstSequence: first, lastSequence: last, minTime: minTime, maxTime: maxTime,
                payloadCRC: 0, keyBytes: streams[s].source.utf8.count + streams[s].stream.utf8.count))
        }
        guard c.remaining == 0 else { throw ByteCursor.Overrun() }
        return SegmentIndex(streams: streams, entries: entries)
    }
}
