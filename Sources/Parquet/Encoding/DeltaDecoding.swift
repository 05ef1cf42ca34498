/// Decoders of the DELTA_* encodings (Parquet Encodings.md), which parquet-mr and Arrow write in v2 pages.
enum DeltaDecoding {
    /// DELTA_BINARY_PACKED: a header (block size, miniblocks per block, value count, first value), then
    /// blocks of (min delta, one bit width per miniblock, bit-packed miniblocks of delta - min delta).
    /// Arithmetic wraps, as the encoding is defined on two's complement integers.
    static func binaryPacked(_ cursor: inout ByteCursor) throws -> [Int64] {
        let blockSize = try cursor.varint()
        let miniblocks = try cursor.varint()
        let total = try cursor.varint()
        var value = try cursor.zigzag()
        guard blockSize > 0, blockSize % 128 == 0, miniblocks > 0, blockSize % miniblocks == 0,
              (blockSize / miniblocks) % 32 == 0, blockSize <= 1 << 20 else {
            throw PageDecodeError("DELTA_BINARY_PACKED header: block size \(blockSize), \(miniblocks) miniblocks")
        }
        // Every value takes at least one bit... except width-0 miniblocks; bound by the page size anyway.
        guard total <= UInt64(max(cursor.remaining, 1)) * 64 + 1 else {
            throw PageDecodeError("DELTA_BINARY_PACKED claims \(total) values in \(cursor.remaining) bytes")
        }
        let count = Int(total)
        var out: [Int64] = []
        out.reserveCapacity(count)
        if count == 0 { return out }
        out.append(value)
        let perMiniblock = Int(blockSize / miniblocks)
        var widths = [Int](repeating: 0, count: Int(miniblocks))
        while out.count < count {
            let minDelta = try cursor.zigzag()
            for m in 0..<widths.count { widths[m] = Int(try cursor.byte()) }
            for m in 0..<widths.count where out.count < count {
                let width = widths[m]
                guard width <= 64 else { throw PageDecodeError("DELTA_BINARY_PACKED bit width \(width)") }
                let bytes = perMiniblock * width / 8
                let start = cursor.position
                // The last miniblock may be cut short by writers that do not pad; read what is there.
                let available = min(bytes, cursor.remaining)
                let take = min(perMiniblock, count - out.count)
                guard width == 0 || take * width <= available * 8 else {
                    throw PageDecodeError("DELTA_BINARY_PACKED miniblock beyond the end of the data")
                }
                for k in 0..<take {
                    let packed = width == 0 ? 0 : cursor.bits(at: start, bitOffset: k * width, width: width)
                    value = value &+ minDelta &+ Int64(bitPattern: packed)
                    out.append(value)
                }
                cursor.position += available
            }
        }
        return out
    }

    /// DELTA_LENGTH_BYTE_ARRAY: the lengths (DELTA_BINARY_PACKED), then all the bytes concatenated.
    static func lengthByteArray(_ cursor: inout ByteCursor, count: Int, into sink: inout ValueSink) throws {
        let lengths = try binaryPacked(&cursor)
        guard lengths.count == count else { throw PageDecodeError("DELTA_LENGTH_BYTE_ARRAY has \(lengths.count) lengths for \(count) values") }
        for n in lengths {
            guard n >= 0, n <= Int64(cursor.remaining) else { throw PageDecodeError("DELTA_LENGTH_BYTE_ARRAY length \(n) beyond the data") }
            try sink.appendBytes(UnsafeRawBufferPointer(rebasing: cursor.base[cursor.position..<cursor.position + Int(n)]))
            cursor.position += Int(n)
        }
    }

    /// DELTA_BYTE_ARRAY (incremental encoding): prefix lengths (DELTA_BINARY_PACKED), then the suffixes
    /// (DELTA_LENGTH_BYTE_ARRAY); each value is the previous value's prefix followed by its suffix.
    static func byteArray(_ cursor: inout ByteCursor, count: Int, into sink: inout ValueSink) throws {
        let prefixes = try binaryPacked(&cursor)
        let suffixLengths = try binaryPacked(&cursor)
        guard prefixes.count == count, suffixLengths.count == count else {
            throw PageDecodeError("DELTA_BYTE_ARRAY has \(prefixes.count) prefixes and \(suffixLengths.count) suffixes for \(count) values")
        }
        var previous: [UInt8] = []
        var current: [UInt8] = []
        for i in 0..<count {
            let p = prefixes[i], s = suffixLengths[i]
            guard p >= 0, p <= Int64(previous.count), s >= 0, s <= Int64(cursor.remaining) else {
                throw PageDecodeError("DELTA_BYTE_ARRAY value \(i): prefix \(p), suffix \(s) out of range")
            }
            current.removeAll(keepingCapacity: true)
            current.append(contentsOf: previous[0..<Int(p)])
            current.append(contentsOf: UnsafeRawBufferPointer(rebasing: cursor.base[cursor.position..<cursor.position + Int(s)]))
            cursor.position += Int(s)
            try current.withUnsafeBytes { try sink.appendBytes($0) }
            swap(&previous, &current)
        }
    }
}
