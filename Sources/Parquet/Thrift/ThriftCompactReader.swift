/// Reads the Thrift compact protocol from a byte array, with bounds checks on every read so a corrupt
/// footer or page header is an error, never a crash. Unknown fields are skipped (`skip(_:)`), since
/// parquet-mr and Arrow write fields newer than the ones we model.
///
/// Usage for a struct: `beginStruct()`, then `while let (id, type) = try nextField() { ... }`, where each
/// field is either read with the typed readers or passed to `skip`. `nextField` returns nil at the stop byte.
struct ThriftCompactReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int
    private var lastFieldId: [Int16] = []
    private var depth = 0

    init(bytes: [UInt8], position: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.position = position
        self.end = end ?? bytes.count
    }

    struct DecodeError: Error, CustomStringConvertible {
        let message: String
        let offset: Int
        var description: String { "thrift decode error at byte \(offset): \(message)" }
    }

    private func fail(_ message: String) -> DecodeError { DecodeError(message: message, offset: position) }

    mutating func readByte() throws -> UInt8 {
        guard position < end else { throw fail("unexpected end of data") }
        let b = bytes[position]
        position += 1
        return b
    }

    mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try readByte()
            if shift >= 64 { throw fail("varint too long") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
        }
    }

    mutating func readZigzag() throws -> Int64 {
        let v = try readVarint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    mutating func i64() throws -> Int64 { try readZigzag() }

    mutating func i32() throws -> Int32 {
        let v = try readZigzag()
        guard let r = Int32(exactly: v) else { throw fail("i32 out of range: \(v)") }
        return r
    }

    mutating func i16() throws -> Int16 {
        let v = try readZigzag()
        guard let r = Int16(exactly: v) else { throw fail("i16 out of range: \(v)") }
        return r
    }

    mutating func byteValue() throws -> Int8 { Int8(bitPattern: try readByte()) }

    mutating func binary() throws -> [UInt8] {
        let length = try readVarint()
        guard length <= UInt64(end - position) else {
            throw fail("binary length \(length) exceeds the \(end - position) bytes left")
        }
        let n = Int(length)
        let out = Array(bytes[position..<position + n])
        position += n
        return out
    }

    mutating func string() throws -> String {
        String(decoding: try binary(), as: UTF8.self)
    }

    /// The value of a boolean field (compact protocol stores it in the field header's type).
    func bool(_ type: ThriftType) throws -> Bool {
        switch type {
        case .boolTrue: return true
        case .boolFalse: return false
        default: throw fail("expected a boolean field, found type \(type)")
        }
    }

    mutating func beginStruct() throws {
        depth += 1
        guard depth <= 64 else { throw fail("structs nested too deeply") }
        lastFieldId.append(0)
    }

    /// The next field's id and type, or nil at the end of the current struct.
    mutating func nextField() throws -> (Int16, ThriftType)? {
        let header = try readByte()
        if header == 0 {
            lastFieldId.removeLast()
            depth -= 1
            return nil
        }
        guard let type = ThriftType(rawValue: header & 0x0F) else {
            throw fail("unknown field type \(header & 0x0F)")
        }
        let delta = Int16(header >> 4)
        let id: Int16
        if delta == 0 {
            id = try i16()
        } else {
            id = lastFieldId[lastFieldId.count - 1] &+ delta
        }
        lastFieldId[lastFieldId.count - 1] = id
        return (id, type)
    }

    mutating func listHeader() throws -> (ThriftType, Int) {
        let header = try readByte()
        guard let type = ThriftType(rawValue: header & 0x0F) else {
            throw fail("unknown list element type \(header & 0x0F)")
        }
        var count = Int(header >> 4)
        if count == 15 {
            let v = try readVarint()
            // Each element takes at least one byte (except empty structs' stop byte, still one byte).
            guard v <= UInt64(end - position) else { throw fail("list of \(v) elements exceeds the data left") }
            count = Int(v)
        }
        return (type, count)
    }

    /// Skips a value of the given type (an unknown field, or an element of an unknown list).
    mutating func skip(_ type: ThriftType) throws {
        switch type {
        case .stop: throw fail("unexpected stop")
        case .boolTrue, .boolFalse: return
        case .byte: _ = try readByte()
        case .i16, .i32, .i64: _ = try readVarint()
        case .double:
            guard end - position >= 8 else { throw fail("unexpected end of data") }
            position += 8
        case .binary:
            let length = try readVarint()
            guard length <= UInt64(end - position) else { throw fail("binary length \(length) exceeds the data left") }
            position += Int(length)
        case .list, .set:
            let (elementType, count) = try listHeader()
            depth += 1
            defer { depth -= 1 }
            guard depth <= 64 else { throw fail("lists nested too deeply") }
            for _ in 0..<count {
                if elementType == .boolTrue || elementType == .boolFalse {
                    _ = try readByte()
                } else {
                    try skip(elementType)
                }
            }
        case .map:
            let count = try readVarint()
            guard count <= UInt64(end - position) else { throw fail("map of \(count) entries exceeds the data left") }
            if count == 0 { return }
            let kinds = try readByte()
            guard let keyType = ThriftType(rawValue: kinds >> 4), let valueType = ThriftType(rawValue: kinds & 0x0F) else {
                throw fail("unknown map element types")
            }
            for _ in 0..<count {
                try skipElement(keyType)
                try skipElement(valueType)
            }
        case .structure:
            try beginStruct()
            while let (_, fieldType) = try nextField() {
                try skip(fieldType)
            }
        }
    }

    private mutating func skipElement(_ type: ThriftType) throws {
        if type == .boolTrue || type == .boolFalse { _ = try readByte() } else { try skip(type) }
    }

    /// Reads a list of i32 (enum values).
    mutating func i32List() throws -> [Int32] {
        let (type, count) = try listHeader()
        guard type == .i32 else { throw fail("expected a list of i32, found \(type)") }
        var out: [Int32] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try i32()) }
        return out
    }

    mutating func stringList() throws -> [String] {
        let (type, count) = try listHeader()
        guard type == .binary else { throw fail("expected a list of strings, found \(type)") }
        var out: [String] = []
        out.reserveCapacity(count)
        for _ in 0..<count { out.append(try string()) }
        return out
    }
}
