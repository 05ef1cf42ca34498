/// The RLE / bit-packing hybrid encoding (Parquet Encodings.md, "RLE"), used for definition levels and
/// dictionary indices. A run header varint has its low bit clear for an RLE run (`count << 1`, then the
/// value in ceil(bitWidth/8) little-endian bytes) and set for bit-packed groups (`groups << 1 | 1`, then
/// `groups * bitWidth` bytes holding 8 values per group, least significant bit first).
enum RLEHybrid {
    /// Number of bits needed to represent `maxValue`.
    static func bitWidth(forMax maxValue: UInt64) -> Int {
        maxValue == 0 ? 0 : 64 - maxValue.leadingZeroBitCount
    }

    /// Appends the encoding of `values` (no length prefix). Runs of 8 or more equal values become RLE
    /// runs; everything else is bit-packed in groups of 8 (the last group padded with zeros).
    static func encode<T: FixedWidthInteger & UnsignedInteger>(_ values: UnsafeBufferPointer<T>, bitWidth: Int, into out: inout [UInt8]) {
        let n = values.count
        var i = 0
        while i < n {
            let first = values[i]
            var run = 1
            while i + run < n && values[i + run] == first { run += 1 }
            if run >= 8 {
                appendVarint(UInt64(run) << 1, to: &out)
                var v = UInt64(first)
                for _ in 0..<((bitWidth + 7) / 8) {
                    out.append(UInt8(truncatingIfNeeded: v))
                    v >>= 8
                }
                i += run
                continue
            }
            // Bit-packed section: whole groups of 8 until a group starts with a run of 8 or the input ends.
            var j = i + 8
            while j < n {
                let v = values[j]
                var r = 1
                while r < 8 && j + r < n && values[j + r] == v { r += 1 }
                if r >= 8 { break }
                j += 8
            }
            let end = min(j, n)
            let groups = (end - i + 7) / 8
            appendVarint(UInt64(groups) << 1 | 1, to: &out)
            packBits(values, from: i, to: end, paddedCount: groups * 8, bitWidth: bitWidth, into: &out)
            i = end
        }
    }

    /// Bit-packs `values[from..<to]` LSB-first, padding with zeros up to `paddedCount` values.
    static func packBits<T: FixedWidthInteger & UnsignedInteger>(
        _ values: UnsafeBufferPointer<T>, from: Int, to: Int, paddedCount: Int, bitWidth: Int, into out: inout [UInt8]
    ) {
        // Widths are at most 32 here (levels, dictionary indices), so 7 pending bits + 32 fit in 64.
        if bitWidth == 0 { return }
        var acc: UInt64 = 0
        var bits = 0
        let mask: UInt64 = (1 << UInt64(bitWidth)) - 1
        for k in 0..<paddedCount {
            let v: UInt64 = from + k < to ? UInt64(values[from + k]) & mask : 0
            acc |= v << UInt64(bits)
            bits += bitWidth
            while bits >= 8 {
                out.append(UInt8(truncatingIfNeeded: acc))
                acc >>= 8
                bits -= 8
            }
        }
        if bits > 0 { out.append(UInt8(truncatingIfNeeded: acc)) }
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }
}

/// A bounds-checked cursor over a byte buffer, for decoding page contents.
struct ByteCursor {
    let base: UnsafeRawBufferPointer
    var position: Int
    let end: Int

    init(_ base: UnsafeRawBufferPointer, position: Int = 0, end: Int? = nil) {
        self.base = base
        self.position = position
        self.end = end ?? base.count
    }

    var remaining: Int { end - position }

    mutating func byte() throws -> UInt8 {
        guard position < end else { throw PageDecodeError("unexpected end of page data") }
        let b = base[position]
        position += 1
        return b
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw PageDecodeError("varint too long") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func zigzag() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func uint32LE() throws -> UInt32 {
        guard remaining >= 4 else { throw PageDecodeError("unexpected end of page data") }
        let v = base.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        position += 4
        return UInt32(littleEndian: v)
    }

    mutating func skip(_ n: Int) throws {
        guard n >= 0, remaining >= n else { throw PageDecodeError("unexpected end of page data (need \(n) bytes, \(remaining) left)") }
        position += n
    }

    /// Reads `width` bits starting `bitOffset` bits after byte `start`, LSB-first (width <= 64).
    func bits(at start: Int, bitOffset: Int, width: Int) -> UInt64 {
        var byteIndex = start + bitOffset >> 3
        var shift = bitOffset & 7
        var result: UInt64 = 0
        var got = 0
        while got < width {
            let b = byteIndex < end ? UInt64(base[byteIndex]) : 0
            let avail = 8 - shift
            let take = min(avail, width - got)
            result |= ((b >> UInt64(shift)) & ((1 << UInt64(take)) - 1)) << UInt64(got)
            got += take
            shift = 0
            byteIndex += 1
        }
        return result
    }
}

/// A malformed page: wrapped into a `ParquetError` naming the file, row group and column.
struct PageDecodeError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// Decodes an RLE / bit-packed hybrid stream into unsigned integers.
struct RLEHybridDecoder {
    var cursor: ByteCursor
    let bitWidth: Int
    private var rleRemaining = 0
    private var rleValue: UInt32 = 0
    private var packedRemaining = 0
    private var packedStart = 0
    private var packedIndex = 0

    init(_ cursor: ByteCursor, bitWidth: Int) throws {
        guard bitWidth >= 0 && bitWidth <= 32 else { throw PageDecodeError("bit width \(bitWidth) out of range") }
        self.cursor = cursor
        self.bitWidth = bitWidth
    }

    /// Appends the next `count` values to `out`.
    mutating func decode(count: Int, into out: inout [UInt32]) throws {
        var left = count
        if bitWidth == 0 {
            out.append(contentsOf: repeatElement(0, count: count))
            return
        }
        while left > 0 {
            if rleRemaining > 0 {
                let n = min(left, rleRemaining)
                out.append(contentsOf: repeatElement(rleValue, count: n))
                rleRemaining -= n
                left -= n
                continue
            }
            if packedRemaining > 0 {
                let n = min(left, packedRemaining)
                for k in 0..<n {
                    let v = cursor.bits(at: packedStart, bitOffset: (packedIndex + k) * bitWidth, width: bitWidth)
                    out.append(UInt32(truncatingIfNeeded: v))
                }
                packedIndex += n
                packedRemaining -= n
                left -= n
                continue
            }
            let header = try cursor.varint()
            if header & 1 == 0 {
                let run = header >> 1
                guard run > 0, run <= UInt64(Int32.max) else { throw PageDecodeError("bad RLE run length \(run)") }
                var v: UInt32 = 0
                for k in 0..<((bitWidth + 7) / 8) { v |= UInt32(try cursor.byte()) << UInt32(8 * k) }
                if bitWidth < 32 && v >> UInt32(bitWidth) != 0 { throw PageDecodeError("RLE value \(v) wider than \(bitWidth) bits") }
                rleValue = v
                rleRemaining = Int(run)
            } else {
                let groups = header >> 1
                guard groups > 0, groups <= UInt64(Int32.max / 8) else { throw PageDecodeError("bad bit-packed group count \(groups)") }
                let byteCount = Int(groups) * bitWidth
                // A writer may end the stream before the last padded group's bytes: allow a short tail.
                packedStart = cursor.position
                let available = min(byteCount, cursor.remaining)
                let values = min(Int(groups) * 8, available * 8 / bitWidth)
                guard values > 0 else { throw PageDecodeError("bit-packed run beyond the end of the data") }
                try cursor.skip(available)
                packedRemaining = values
                packedIndex = 0
            }
        }
    }
}
