/// Reads Avro binary-encoded primitives from a byte buffer, checking every length against what is left.
public struct AvroBinaryDecoder {
    public let bytes: [UInt8]
    public private(set) var position: Int

    public init(_ bytes: [UInt8], position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    public var isAtEnd: Bool { position >= bytes.count }
    public var remaining: Int { bytes.count - position }

    public mutating func readBoolean() throws -> Bool {
        let byte = try readByte()
        guard byte <= 1 else { throw AvroDecodingError(position: position - 1, message: "boolean byte \(byte)") }
        return byte == 1
    }

    public mutating func readInt() throws -> Int32 {
        let value = try readLong()
        guard let narrowed = Int32(exactly: value) else {
            throw AvroDecodingError(position: position, message: "int out of range: \(value)")
        }
        return narrowed
    }

    public mutating func readLong() throws -> Int64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        let start = position
        while true {
            let byte = try readByte()
            guard shift < 64 else { throw AvroDecodingError(position: start, message: "varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        return Int64(bitPattern: result >> 1) ^ -Int64(bitPattern: result & 1)
    }

    public mutating func readFloat() throws -> Float {
        let raw = try readRaw(4)
        let bits = raw.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
        return Float(bitPattern: UInt32(littleEndian: bits))
    }

    public mutating func readDouble() throws -> Double {
        let raw = try readRaw(8)
        let bits = raw.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        return Double(bitPattern: UInt64(littleEndian: bits))
    }

    public mutating func readBytes() throws -> [UInt8] {
        let length = try readLength()
        return Array(try readRaw(length))
    }

    public mutating func readString() throws -> String {
        let length = try readLength()
        let start = position
        let raw = try readRaw(length)
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw AvroDecodingError(position: start, message: "string is not valid UTF-8")
        }
        return text
    }

    public mutating func readFixed(_ size: Int) throws -> [UInt8] {
        Array(try readRaw(size))
    }

    public mutating func readUnionIndex() throws -> Int {
        Int(try readLong())
    }

    /// The item count of the next array or map block; a negative count is followed by the block's byte size.
    public mutating func readBlockCount() throws -> Int {
        let start = position
        let count = try readLong()
        if count < 0 {
            // -2^63 has no positive counterpart: no writer produces it (found by fuzzing; it trapped on negation).
            guard count != .min else {
                throw AvroDecodingError(position: start, message: "block count \(count) out of range")
            }
            _ = try readLong()
            return Int(-count)
        }
        return Int(count)
    }

    public mutating func readRaw(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, count <= remaining else {
            throw AvroDecodingError(position: position, message: "needs \(count) bytes, \(remaining) left")
        }
        defer { position += count }
        return bytes[position..<position + count]
    }

    public mutating func skip(_ count: Int) throws {
        _ = try readRaw(count)
    }

    private mutating func readLength() throws -> Int {
        let length = try readLong()
        guard length >= 0, length <= Int64(remaining) else {
            throw AvroDecodingError(position: position, message: "length \(length) exceeds the \(remaining) bytes left")
        }
        return Int(length)
    }

    private mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else {
            throw AvroDecodingError(position: position, message: "unexpected end of data")
        }
        defer { position += 1 }
        return bytes[position]
    }
}

/// Malformed Avro data, with the byte position where decoding failed.
public struct AvroDecodingError: Error, CustomStringConvertible, Sendable {
    public let position: Int
    public let message: String
    public var description: String { "Avro: \(message) at byte \(position)" }
}
