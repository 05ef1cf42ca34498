import Codecs

/// The byte layout of segment files; docs/segment-format.md is the normative description.
enum SegmentFormat {
    static let fileMagic: UInt32 = 0x4753_324B      // "K2SG" little-endian
    static let blockMagic: UInt32 = 0x4B42_324B     // "K2BK"
    static let indexMagic: UInt32 = 0x5849_324B     // "K2IX"
    static let footerMagic: UInt32 = 0x5446_324B    // "K2FT"
    static let version: UInt16 = 1
    static let fileHeaderSize = 40
    static let blockHeaderSize = 64
    static let indexEntrySize = 48
    static let footerSize = 32
    static let fileExtension = "k2seg"
    static let temporarySuffix = ".tmp"
    static let intentName = "compaction.intent"
    static let lockName = ".lock"
    /// Sanity bound on a block's sizes: larger values are corruption, not data.
    static let maxBlockBytes = 1 << 30

    /// The most a codec can expand `compressedSize` payload bytes into: a block header claiming more is refused
    /// before its uncompressed size is allocated (a few bytes of payload cannot justify a 1 GiB buffer).
    /// none: the payload is the records. lz4: a sequence of k+3 bytes (token, offset, k length bytes) yields at
    /// most 255k+18 bytes, so under 255 per byte. zstd: a block yields at most 128 KiB (Block_Maximum_Size) and
    /// takes at least 4 bytes (an RLE block: 3-byte header, 1 byte), so at most 32768 per byte.
    static func maxUncompressedSize(compressedSize: UInt32, codecByte: UInt8) -> UInt64 {
        let ratio: UInt64
        switch codecByte {
        case 0: ratio = 1
        case 1: ratio = 255
        default: ratio = 32768
        }
        return min(UInt64(compressedSize) * ratio, UInt64(maxBlockBytes))
    }

    /// The advice a corruption error gives: what a user can run and do (no program skips damage while
    /// reading; `skipCorrupt` is the reader option `k2-compact --check` uses to list all of it).
    static func corruptionAdvice(segment path: String) -> String {
        let directory = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "."
        return "run `k2-compact \(directory) --check` to list all damage; to read the rest, restore this segment from a backup, or read a copy of the log directory without it"
    }

    static func fileName(id: UInt64) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits + "." + fileExtension
    }

    static func segmentId(fileName: String) -> UInt64? {
        guard fileName.hasSuffix("." + fileExtension) else { return nil }
        let stem = fileName.dropLast(fileExtension.count + 1)
        guard stem.count == 20 else { return nil }
        return UInt64(stem)
    }

    static func codecByte(_ codec: CompressionCodec) throws -> (UInt8, Int8) {
        switch codec {
        case .none: return (0, 0)
        case .lz4: return (1, 0)
        case .zstd(let level): return (2, Int8(clamping: level))
        default: throw SegmentLogError(.usage, "codec \(codec) is not supported in segment logs (none, lz4, zstd)")
        }
    }

    static func codec(byte: UInt8, level: Int8) -> CompressionCodec? {
        switch byte {
        case 0: return CompressionCodec.none
        case 1: return .lz4
        case 2: return .zstd(level: Int32(level))
        default: return nil
        }
    }
}

/// The 40-byte header at offset 0 of every segment file.
struct SegmentFileHeader: Equatable {
    var segmentId: UInt64
    var writerId: UInt64
    var createdNanos: Int64

    func encode() -> [UInt8] {
        var b: [UInt8] = []
        b.reserveCapacity(SegmentFormat.fileHeaderSize)
        b.appendLE(SegmentFormat.fileMagic)
        b.appendLE(SegmentFormat.version)
        b.appendLE(UInt16(SegmentFormat.fileHeaderSize))
        b.appendLE(segmentId)
        b.appendLE(writerId)
        b.appendLE(createdNanos)
        b.appendLE(UInt32(0))
        b.appendLE(CRC32C.checksum(b))
        return b
    }

    /// nil when the bytes are not a valid header (magic, version or CRC).
    static func decode(_ p: UnsafeRawBufferPointer) -> SegmentFileHeader? {
        guard p.count >= SegmentFormat.fileHeaderSize,
              p.le(0, as: UInt32.self) == SegmentFormat.fileMagic,
              p.le(4, as: UInt16.self) == SegmentFormat.version,
              p.le(6, as: UInt16.self) == UInt16(SegmentFormat.fileHeaderSize),
              CRC32C.checksum(UnsafeRawBufferPointer(rebasing: p[0..<36])) == p.le(36, as: UInt32.self)
        else { return nil }
        return SegmentFileHeader(segmentId: p.le(8), writerId: p.le(16), createdNanos: p.le(24))
    }
}

/// What a block header says, plus where the block sits in its file.
struct BlockInfo: Equatable {
    var offset: Int64
    var key: StreamKey
    var codecByte: UInt8
    var codecLevel: Int8
    var recordCount: UInt32
    var uncompressedSize: UInt32
    var compressedSize: UInt32
    var firstSequence: UInt64
    var lastSequence: UInt64
    var minTime: Int64
    var maxTime: Int64
    var payloadCRC: UInt32
    var keyBytes: Int   // source + stream UTF-8 lengths

    /// Header, stream key and payload.
    var totalSize: Int64 { Int64(SegmentFormat.blockHeaderSize + keyBytes) + Int64(compressedSize) }
    var payloadOffset: Int64 { offset + Int64(SegmentFormat.blockHeaderSize + keyBytes) }
    var end: Int64 { offset + totalSize }

    /// Appends the 64-byte header and the stream key to `b`.
    static func encodeHeader(
        into b: inout [UInt8], key: StreamKey, codecByte: UInt8, codecLevel: Int8, recordCount: UInt32,
        uncompressedSize: UInt32, compressedSize: UInt32, firstSequence: UInt64, lastSequence: UInt64,
        minTime: Int64, maxTime: Int64, payloadCRC: UInt32
    ) {
        let start = b.count
        let source = key.source.utf8, stream = key.stream.utf8
        b.appendLE(SegmentFormat.blockMagic)
        b.append(codecByte)
        b.append(UInt8(bitPattern: codecLevel))
        b.appendLE(UInt16(source.count))
        b.appendLE(UInt16(stream.count))
        b.appendLE(UInt16(0))
        b.appendLE(recordCount)
        b.appendLE(uncompressedSize)
        b.appendLE(compressedSize)
        b.appendLE(firstSequence)
        b.appendLE(lastSequence)
        b.appendLE(minTime)
        b.appendLE(maxTime)
        b.appendLE(payloadCRC)
        b.appendLE(UInt32(0))  // header CRC, patched below
        b.append(contentsOf: source)
        b.append(contentsOf: stream)
        let crc = b.withUnsafeBytes { all -> UInt32 in
            let c = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: all[start..<(start + 60)]))
            return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: all[(start + 64)...]), seed: c)
        }
        b.putLE(crc, at: start + 60)
    }

    /// Length of the stream key that follows a 64-byte header, or nil when the magic is wrong.
    static func keyLength(fixedHeader p: UnsafeRawBufferPointer) -> Int? {
        guard p.count >= SegmentFormat.blockHeaderSize, p.le(0, as: UInt32.self) == SegmentFormat.blockMagic else { return nil }
        return Int(p.le(6, as: UInt16.self)) + Int(p.le(8, as: UInt16.self))
    }

    /// Why a block header was refused.
    struct InvalidHeader: Error {
        var reason: String
    }

    /// Decodes header + stream key (`p` starts at the block); nil when the header is invalid.
    static func decodeHeader(_ p: UnsafeRawBufferPointer, offset: Int64) -> BlockInfo? {
        try? decodeHeaderOrThrow(p, offset: offset)
    }

    /// `decodeHeader`, throwing `InvalidHeader` with the reason instead of returning nil.
    static func decodeHeaderOrThrow(_ p: UnsafeRawBufferPointer, offset: Int64) throws -> BlockInfo {
        guard let keyLength = keyLength(fixedHeader: p) else { throw InvalidHeader(reason: "invalid block header (magic)") }
        guard p.count >= SegmentFormat.blockHeaderSize + keyLength else { throw InvalidHeader(reason: "block header cut short") }
        var crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: p[0..<60]))
        crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: p[64..<(64 + keyLength)]), seed: crc)
        guard crc == p.le(60, as: UInt32.self), p.le(10, as: UInt16.self) == 0 else {
            throw InvalidHeader(reason: "invalid block header (CRC32C)")
        }
        let sourceLength = Int(p.le(6, as: UInt16.self))
        let source = String(decoding: UnsafeRawBufferPointer(rebasing: p[64..<(64 + sourceLength)]), as: UTF8.self)
        let stream = String(decoding: UnsafeRawBufferPointer(rebasing: p[(64 + sourceLength)..<(64 + keyLength)]), as: UTF8.self)
        let info = BlockInfo(
            offset: offset, key: StreamKey(source: source, stream: stream), codecByte: p[4], codecLevel: Int8(bitPattern: p[5]),
            recordCount: p.le(12), uncompressedSize: p.le(16), compressedSize: p.le(20),
            firstSequence: p.le(24), lastSequence: p.le(32), minTime: p.le(40), maxTime: p.le(48),
            payloadCRC: p.le(56), keyBytes: keyLength)
        guard info.recordCount > 0, info.firstSequence <= info.lastSequence, info.minTime <= info.maxTime,
              Int(info.compressedSize) <= SegmentFormat.maxBlockBytes,
              SegmentFormat.codec(byte: info.codecByte, level: info.codecLevel) != nil
        else { throw InvalidHeader(reason: "invalid block header (counts, sequences, times or codec out of range)") }
        // Checked before anything is allocated for the block: the uncompressed size is what a reader allocates.
        let bound = SegmentFormat.maxUncompressedSize(compressedSize: info.compressedSize, codecByte: info.codecByte)
        guard UInt64(info.uncompressedSize) <= bound, info.codecByte != 0 || info.uncompressedSize == info.compressedSize else {
            throw InvalidHeader(reason: "block header claims \(info.uncompressedSize) uncompressed bytes for a \(info.compressedSize)-byte \(info.codec) payload, more than the codec can expand it to (\(bound); docs/segment-format.md, \"Size bounds\")")
        }
        return info
    }

    var codec: CompressionCodec { SegmentFormat.codec(byte: codecByte, level: codecLevel) ?? .none }
}
