/// What one segment file holds, found from its index (sealed) or by walking its block headers (unsealed).
struct SegmentInfo {
    var id: UInt64
    var path: String
    var header: SegmentFileHeader?
    var sealed: Bool
    var fileSize: Int64
    /// Blocks in file order. From a sealed segment's index: codec and sizes are filled in when read.
    var blocks: [BlockInfo]
    /// Unsealed only: where the torn tail starts (nil when the file ends on a block boundary).
    var tornTailOffset: Int64?
    /// Unsealed only: invalid regions followed by a valid block (corruption, not a torn tail).
    var corruptRegions: [(offset: Int64, reason: String)] = []

    /// End of the last whole block (where a recovering writer truncates).
    var validEnd: Int64 { blocks.last?.end ?? Int64(SegmentFormat.fileHeaderSize) }
    /// Where the blocks must end: the index offset of a sealed segment, else the file size. A block header
    /// whose sizes reach past it is refused before its payload is read.
    var dataEnd: Int64
}

enum SegmentScanner {
    /// Reads a segment's layout.
    /// - verifyPayloads: for unsealed segments, also check each payload CRC (writer recovery and --check
    ///   need it; readers check payloads when they read the block).
    /// - lenient: a bad file header or index is reported through `diagnostics` and the blocks are walked
    ///   instead; otherwise it throws an error naming the file and offset.
    static func scan(path: String, id: UInt64, verifyPayloads: Bool, lenient: Bool,
                     diagnostics: (String) -> Void) throws -> SegmentInfo {
        let file = try SegmentFile.openRead(path)
        return try scan(file: file, id: id, verifyPayloads: verifyPayloads, lenient: lenient, diagnostics: diagnostics)
    }

    static func scan(file: SegmentFile, id: UInt64, verifyPayloads: Bool, lenient: Bool,
                     diagnostics: (String) -> Void) throws -> SegmentInfo {
        let path = file.path
        let size = try file.size()
        var buffer: [UInt8] = []
        var info = SegmentInfo(id: id, path: path, header: nil, sealed: false, fileSize: size, blocks: [], dataEnd: size)
        if size < Int64(SegmentFormat.fileHeaderSize) {
            // Created and killed before its header was written: an unsealed, empty segment.
            info.tornTailOffset = 0
            return info
        }
        try file.read(at: 0, count: SegmentFormat.fileHeaderSize, into: &buffer)
        info.header = buffer.withUnsafeBytes { SegmentFileHeader.decode(UnsafeRawBufferPointer(rebasing: $0[0..<SegmentFormat.fileHeaderSize])) }
        if info.header == nil {
            let problem = "invalid segment file header (magic, version or CRC32C)"
            guard lenient else { throw SegmentLogError.corrupt(path, 0, problem) }
            diagnostics("\(path) at byte offset 0: \(problem); walking its blocks")
        }
        // Sealed? The footer is the last 32 bytes.
        if size >= Int64(SegmentFormat.fileHeaderSize + SegmentFormat.footerSize) {
            try file.read(at: size - Int64(SegmentFormat.footerSize), count: SegmentFormat.footerSize, into: &buffer)
            let footer: SegmentIndex.Footer?
            do {
                footer = try buffer.withUnsafeBytes {
                    try SegmentIndex.decodeFooter(UnsafeRawBufferPointer(rebasing: $0[0..<SegmentFormat.footerSize]), fileSize: size)
                }
            } catch let invalid as SegmentIndex.InvalidFooter {
                let offset = size - Int64(SegmentFormat.footerSize)
                guard lenient else { throw SegmentLogError.corrupt(path, offset, invalid.reason) }
                diagnostics("\(path) at byte offset \(offset): \(invalid.reason); walking its blocks")
                return try walk(file: file, info: info, end: offset, verifyPayloads: true, buffer: &buffer)
            }
            if let footer {
                let length = Int(footer.indexLength)   // at most the file size (decodeFooter)
                try file.read(at: footer.indexOffset, count: length, into: &buffer)
                var problem = "segment index does not match its CRC32C"
                let index: SegmentIndex? = buffer.withUnsafeBytes { raw in
                    let p = UnsafeRawBufferPointer(rebasing: raw[0..<length])
                    guard CRC32C.checksum(p) == footer.indexCRC else { return nil }
                    problem = "segment index is malformed (counts, lengths or block offsets do not fit it)"
                    return try? SegmentIndex.decode(p, blockCount: footer.blockCount)
                }
                if let index, index.entries.allSatisfy({ $0.offset >= Int64(SegmentFormat.fileHeaderSize) && $0.offset < footer.indexOffset }) {
                    info.sealed = true
                    info.blocks = index.entries
                    info.dataEnd = footer.indexOffset
                    return info
                }
                if index != nil { problem = "segment index lists a block outside the file's block region (bytes 40..<\(footer.indexOffset))" }
                guard lenient else { throw SegmentLogError.corrupt(path, footer.indexOffset, problem) }
                diagnostics("\(path) at byte offset \(footer.indexOffset): \(problem); walking its blocks")
                return try walk(file: file, info: info, end: footer.indexOffset, verifyPayloads: true, buffer: &buffer)
            }
        }
        return try walk(file: file, info: info, end: size, verifyPayloads: verifyPayloads, buffer: &buffer)
    }

    /// Walks block headers from the file header to `end`.
    private static func walk(file: SegmentFile, info: SegmentInfo, end: Int64, verifyPayloads: Bool,
                             buffer: inout [UInt8]) throws -> SegmentInfo {
        var info = info
        info.dataEnd = end
        var offset = Int64(SegmentFormat.fileHeaderSize)
        while offset < end {
            if let block = try validBlock(file: file, at: offset, end: end, verifyPayload: verifyPayloads, buffer: &buffer) {
                info.blocks.append(block)
                offset = block.end
                continue
            }
            if let next = try nextValidBlock(file: file, after: offset, end: end, buffer: &buffer) {
                info.corruptRegions.append((offset, "invalid block (\(next - offset) bytes up to the next valid block)"))
                offset = next
            } else {
                info.tornTailOffset = offset
                break
            }
        }
        return info
    }

    /// The block at `offset` if its header is valid and it lies wholly before `end` (and, when asked,
    /// its payload matches its CRC32C).
    static func validBlock(file: SegmentFile, at offset: Int64, end: Int64, verifyPayload: Bool,
                           buffer: inout [UInt8]) throws -> BlockInfo? {
        let headerSize = SegmentFormat.blockHeaderSize
        guard end - offset >= Int64(headerSize) else { return nil }
        let want = Int(min(end - offset, Int64(headerSize + 1024)))
        let got = try file.read(at: offset, count: want, into: &buffer)
        guard got >= headerSize else { return nil }
        let keyLength = buffer.withUnsafeBytes { BlockInfo.keyLength(fixedHeader: UnsafeRawBufferPointer(rebasing: $0[0..<headerSize])) }
        guard let keyLength, headerSize + keyLength <= got else { return nil }
        guard let block = buffer.withUnsafeBytes({ BlockInfo.decodeHeader(UnsafeRawBufferPointer(rebasing: $0[0..<(headerSize + keyLength)]), offset: offset) }),
              block.end <= end else { return nil }
        if verifyPayload {
            let n = Int(block.compressedSize)
            guard try file.read(at: block.payloadOffset, count: n, into: &buffer) == n else { return nil }
            let crc = buffer.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            guard crc == block.payloadCRC else { return nil }
        }
        return block
    }

    /// The offset of the next whole, valid block after `offset`, searching for the block magic.
    static func nextValidBlock(file: SegmentFile, after offset: Int64, end: Int64, buffer: inout [UInt8]) throws -> Int64? {
        var chunk: [UInt8] = []
        var probe: [UInt8] = []
        var position = offset + 1
        let chunkSize = 1 << 20
        let magic = withUnsafeBytes(of: SegmentFormat.blockMagic.littleEndian) { Array($0) }
        while position + Int64(SegmentFormat.blockHeaderSize) <= end {
            let want = Int(min(Int64(chunkSize + 3), end - position))
            let got = try file.read(at: position, count: want, into: &chunk)
            if got < 4 { return nil }
            var i = 0
            while i + 4 <= got {
                if chunk[i] == magic[0] && chunk[i + 1] == magic[1] && chunk[i + 2] == magic[2] && chunk[i + 3] == magic[3] {
                    let candidate = position + Int64(i)
                    if try validBlock(file: file, at: candidate, end: end, verifyPayload: true, buffer: &probe) != nil {
                        return candidate
                    }
                }
                i += 1
            }
            position += Int64(max(1, got - 3))
        }
        return nil
    }
}
