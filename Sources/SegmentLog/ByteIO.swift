// Little-endian fixed-width and LEB128 varint helpers over byte buffers (no allocation).

extension Array where Element == UInt8 {
    @inline(__always) mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    /// Unsigned LEB128.
    @inline(__always) mutating func appendVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    /// Zig-zag then LEB128, for signed values.
    @inline(__always) mutating func appendZigZag(_ value: Int64) {
        appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func appendShortString(_ s: String) {
        let utf8 = Array(s.utf8)
        appendLE(UInt16(utf8.count))
        append(contentsOf: utf8)
    }

    mutating func putLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always) func le<T: FixedWidthInteger>(_ offset: Int, as: T.Type = T.self) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

/// A bounds-checked cursor over decoded bytes; every read that would overrun throws.
struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    var position: Int

    struct Overrun: Error {}

    init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var remaining: Int { bytes.count - position }

    @inline(__always) mutating func u8() throws -> UInt8 {
        guard position < bytes.count else { throw Overrun() }
        defer { position += 1 }
        return bytes[position]
    }

    @inline(__always) mutating func fixed<T: FixedWidthInteger>(_: T.Type) throws -> T {
        guard position + MemoryLayout<T>.size <= bytes.count else { throw Overrun() }
        defer { position += MemoryLayout<T>.size }
        return bytes.le(position)
    }

    @inline(__always) mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count, shift < 64 else { throw Overrun() }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    @inline(__always) mutating func zigzag() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1)
    }

    mutating func skip(_ count: Int) throws {
        guard count >= 0, position + count <= bytes.count else { throw Overrun() }
        position += count
    }

    mutating func bytesArray(_ count: Int) throws -> [UInt8] {
        guard count >= 0, position + count <= bytes.count else { throw Overrun() }
        defer { position += count }
        return [UInt8](UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)]))
    }

    mutating func shortString() throws -> String {
        let n = Int(try fixed(UInt16.self))
        guard position + n <= bytes.count else { throw Overrun() }
        defer { position += n }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)]), as: UTF8.self)
    }
}
