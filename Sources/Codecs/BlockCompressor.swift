import CLZ4
import CSnappy
import CZlib
import CZstd

/// Compresses and decompresses blocks, reusing the codec libraries' contexts between calls.
///
/// Not thread-safe: keep one per writer or reader. Reusing the zstd contexts matters: allocating a
/// level-3 compression context per 64 KiB block costs more than compressing it.
public final class BlockCompressor {
    private var zstdCCtx: OpaquePointer?
    private var zstdDCtx: OpaquePointer?

    public init() {}

    deinit {
        if let c = zstdCCtx { ZSTD_freeCCtx(c) }
        if let d = zstdDCtx { ZSTD_freeDCtx(d) }
    }

    /// Appends the compressed form of `source` to `output`.
    public func compress(_ source: UnsafeRawBufferPointer, codec: CompressionCodec, into output: inout [UInt8]) throws {
        let start = output.count
        switch codec {
        case .none:
            output.append(contentsOf: source)
        case .zstd(let level):
            if zstdCCtx == nil { zstdCCtx = ZSTD_createCCtx() }
            let bound = ZSTD_compressBound(source.count)
            output.append(contentsOf: repeatElement(0, count: bound))
            let written = output.withUnsafeMutableBytes { out in
                ZSTD_compressCCtx(zstdCCtx, out.baseAddress! + start, bound, source.baseAddress, source.count, level)
            }
            if ZSTD_isError(written) != 0 {
                output.removeSubrange(start...)
                throw CodecError(codec: "zstd", message: String(cString: ZSTD_getErrorName(written)))
            }
            output.removeLast(bound - written)
        case .lz4:
            guard source.count <= Int(LZ4_MAX_INPUT_SIZE) else {
                throw CodecError(codec: "lz4", message: "block of \(source.count) bytes exceeds LZ4's limit")
            }
            let bound = Int(LZ4_compressBound(Int32(source.count)))
            output.append(contentsOf: repeatElement(0, count: bound))
            let written = output.withUnsafeMutableBytes { out in
                LZ4_compress_default(
                    source.baseAddress?.assumingMemoryBound(to: CChar.self),
                    (out.baseAddress! + start).assumingMemoryBound(to: CChar.self),
                    Int32(source.count), Int32(bound))
            }
            guard written > 0 || source.isEmpty else {
                output.removeSubrange(start...)
                throw CodecError(codec: "lz4", message: "compression failed")
            }
            output.removeLast(bound - Int(written))
        case .snappy:
            var bound = snappy_max_compressed_length(source.count)
            output.append(contentsOf: repeatElement(0, count: bound))
            var empty: CChar = 0  // snappy wants a non-null pointer even for an empty input
            let input = source.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer(&empty)
            let status = output.withUnsafeMutableBytes { out in
                snappy_compress(
                    input, source.count,
                    (out.baseAddress! + start).assumingMemoryBound(to: CChar.self), &bound)
            }
            guard status == SNAPPY_OK else {
                output.removeSubrange(start...)
                throw CodecError(codec: "snappy", message: "compression failed (\(status.rawValue))")
            }
            output.removeLast(output.count - start - bound)
        case .gzip(let level):
            try deflate(source, level: level, windowBits: 15 + 16, codecName: "gzip", into: &output)
        case .deflate(let level):
            try deflate(source, level: level, windowBits: -15, codecName: "deflate", into: &output)
        }
    }

    /// Appends the decompressed form of `source` to `output`.
    ///
    /// - Parameter uncompressedSize: the size the container recorded. Required for `lz4`; when given for
    ///   the other codecs it is checked, so a block that inflates to another size is reported as corrupt.
    public func decompress(
        _ source: UnsafeRawBufferPointer, codec: CompressionCodec, uncompressedSize: Int?, into output: inout [UInt8]
    ) throws {
        let start = output.count
        switch codec {
        case .none:
            if let expected = uncompressedSize, expected != source.count {
                throw CodecError(codec: "none", message: "expected \(expected) bytes, found \(source.count)")
            }
            output.append(contentsOf: source)
        case .zstd:
            if zstdDCtx == nil { zstdDCtx = ZSTD_createDCtx() }
            var size = uncompressedSize ?? -1
            if size < 0 {
                let frameSize = ZSTD_getFrameContentSize(source.baseAddress, source.count)
                if frameSize == ZSTD_CONTENTSIZE_ERROR {
                    throw CodecError(codec: "zstd", message: "not a zstd frame")
                }
                if frameSize != ZSTD_CONTENTSIZE_UNKNOWN { size = Int(frameSize) }
            }
            if size < 0 {
                try zstdStream(source, into: &output)
                return
            }
            output.append(contentsOf: repeatElement(0, count: size))
            let written = output.withUnsafeMutableBytes { out in
                ZSTD_decompressDCtx(zstdDCtx, out.baseAddress! + start, size, source.baseAddress, source.count)
            }
            if ZSTD_isError(written) != 0 {
                output.removeSubrange(start...)
                throw CodecError(codec: "zstd", message: String(cString: ZSTD_getErrorName(written)))
            }
            guard written == size else {
                output.removeSubrange(start...)
                throw CodecError(codec: "zstd", message: "expected \(size) bytes, decompressed \(written)")
            }
        case .lz4:
            guard let size = uncompressedSize else {
                throw CodecError(codec: "lz4", message: "LZ4 blocks need their uncompressed size")
            }
            output.append(contentsOf: repeatElement(0, count: size))
            let written = output.withUnsafeMutableBytes { out in
                LZ4_decompress_safe(
                    source.baseAddress?.assumingMemoryBound(to: CChar.self),
                    (out.baseAddress! + start).assumingMemoryBound(to: CChar.self),
                    Int32(source.count), Int32(size))
            }
            guard written == Int32(size) else {
                output.removeSubrange(start...)
                throw CodecError(codec: "lz4", message: "corrupt block (expected \(size) bytes, got \(written))")
            }
        case .snappy:
            var size = 0
            let src = source.baseAddress?.assumingMemoryBound(to: CChar.self)
            guard snappy_uncompressed_length(src, source.count, &size) == SNAPPY_OK else {
                throw CodecError(codec: "snappy", message: "corrupt block header")
            }
            if let expected = uncompressedSize, expected != size {
                throw CodecError(codec: "snappy", message: "expected \(expected) bytes, block says \(size)")
            }
            output.append(contentsOf: repeatElement(0, count: size))
            var outLength = size
            let status = output.withUnsafeMutableBytes { out in
                snappy_uncompress(src, source.count, (out.baseAddress! + start).assumingMemoryBound(to: CChar.self), &outLength)
            }
            guard status == SNAPPY_OK, outLength == size else {
                output.removeSubrange(start...)
                throw CodecError(codec: "snappy", message: "corrupt block")
            }
        case .gzip:
            // 15 + 32: let zlib detect a gzip or a zlib header.
            try inflate(source, windowBits: 15 + 32, codecName: "gzip", expected: uncompressedSize, into: &output)
        case .deflate:
            try inflate(source, windowBits: -15, codecName: "deflate", expected: uncompressedSize, into: &output)
        }
    }

    private func zstdStream(_ source: UnsafeRawBufferPointer, into output: inout [UInt8]) throws {
        guard let stream = ZSTD_createDStream() else { throw CodecError(codec: "zstd", message: "out of memory") }
        defer { ZSTD_freeDStream(stream) }
        ZSTD_initDStream(stream)
        var input = ZSTD_inBuffer(src: source.baseAddress, size: source.count, pos: 0)
        let chunk = max(ZSTD_DStreamOutSize(), 1 << 16)
        var scratch = [UInt8](repeating: 0, count: chunk)
        while true {
            let (ret, produced): (Int, Int) = scratch.withUnsafeMutableBytes { buf in
                var out = ZSTD_outBuffer(dst: buf.baseAddress, size: buf.count, pos: 0)
                let r = ZSTD_decompressStream(stream, &out, &input)
                return (r, out.pos)
            }
            if ZSTD_isError(ret) != 0 {
                throw CodecError(codec: "zstd", message: String(cString: ZSTD_getErrorName(ret)))
            }
            output.append(contentsOf: scratch[0..<produced])
            if ret == 0 { return }
            if input.pos == input.size && produced < chunk {
                throw CodecError(codec: "zstd", message: "truncated frame")
            }
        }
    }

    private func deflate(
        _ source: UnsafeRawBufferPointer, level: Int32, windowBits: Int32, codecName: String, into output: inout [UInt8]
    ) throws {
        var stream = z_stream()
        var rc = deflateInit2_(&stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY,
                               ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw CodecError(codec: codecName, message: "deflateInit2 failed (\(rc))") }
        defer { deflateEnd(&stream) }
        let start = output.count
        let bound = Int(deflateBound(&stream, UInt(source.count))) + 32
        output.append(contentsOf: repeatElement(0, count: bound))
        rc = output.withUnsafeMutableBytes { out -> Int32 in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress?.assumingMemoryBound(to: UInt8.self))
            stream.avail_in = UInt32(source.count)
            stream.next_out = (out.baseAddress! + start).assumingMemoryBound(to: UInt8.self)
            stream.avail_out = UInt32(bound)
            return CZlib.deflate(&stream, Z_FINISH)
        }
        guard rc == Z_STREAM_END else {
            output.removeSubrange(start...)
            throw CodecError(codec: codecName, message: "deflate failed (\(rc))")
        }
        output.removeLast(Int(stream.avail_out))
    }

    private func inflate(
        _ source: UnsafeRawBufferPointer, windowBits: Int32, codecName: String, expected: Int?, into output: inout [UInt8]
    ) throws {
        var stream = z_stream()
        var rc = inflateInit2_(&stream, windowBits, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else { throw CodecError(codec: codecName, message: "inflateInit2 failed (\(rc))") }
        defer { inflateEnd(&stream) }
        let start = output.count
        stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress?.assumingMemoryBound(to: UInt8.self))
        stream.avail_in = UInt32(source.count)
        var chunk = max(expected ?? source.count * 4, 4096)
        repeat {
            let before = output.count
            output.append(contentsOf: repeatElement(0, count: chunk))
            rc = output.withUnsafeMutableBytes { out -> Int32 in
                stream.next_out = (out.baseAddress! + before).assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(chunk)
                return CZlib.inflate(&stream, Z_NO_FLUSH)
            }
            output.removeLast(Int(stream.avail_out))
            if rc == Z_BUF_ERROR && stream.avail_in == 0 { break }
            chunk = max(chunk, 1 << 16)
        } while rc == Z_OK
        guard rc == Z_STREAM_END else {
            output.removeSubrange(start...)
            throw CodecError(codec: codecName, message: rc == Z_OK || rc == Z_BUF_ERROR ? "truncated stream" : "corrupt stream (\(rc))")
        }
        if let expected, output.count - start != expected {
            let got = output.count - start
            output.removeSubrange(start...)
            throw CodecError(codec: codecName, message: "expected \(expected) bytes, inflated \(got)")
        }
    }
}

extension BlockCompressor {
    /// Convenience for small, infrequent blocks (metadata files, manifests).
    public func compress(_ source: [UInt8], codec: CompressionCodec) throws -> [UInt8] {
        var out: [UInt8] = []
        try source.withUnsafeBytes { try compress($0, codec: codec, into: &out) }
        return out
    }

    public func decompress(_ source: [UInt8], codec: CompressionCodec, uncompressedSize: Int? = nil) throws -> [UInt8] {
        var out: [UInt8] = []
        try source.withUnsafeBytes { try decompress($0, codec: codec, uncompressedSize: uncompressedSize, into: &out) }
        return out
    }
}
