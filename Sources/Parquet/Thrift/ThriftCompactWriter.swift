/// Writes the Thrift compact protocol (the encoding of Parquet's footer and page headers).
///
/// Only what Parquet's structures use: structs, i16/i32/i64 (zigzag varints), binary/strings,
/// booleans and lists. Field ids are written as deltas from the previous field when they fit.
struct ThriftCompactWriter {
    var bytes: [UInt8] = []
    private var lastFieldId: [Int16] = [0]

    init() { bytes.reserveCapacity(256) }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        lastFieldId = [0]
    }

    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func writeZigzag(_ value: Int64) {
        writeVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    private mutating func fieldHeader(_ id: Int16, _ type: ThriftType) {
        let last = lastFieldId[lastFieldId.count - 1]
        let delta = Int(id) - Int(last)
        if delta > 0 && delta <= 15 {
            bytes.append(UInt8(delta << 4) | type.rawValue)
        } else {
            bytes.append(type.rawValue)
            writeZigzag(Int64(id))
        }
        lastFieldId[lastFieldId.count - 1] = id
    }

    mutating func i32(_ id: Int16, _ value: Int32) {
        fieldHeader(id, .i32)
        writeZigzag(Int64(value))
    }

    mutating func i32(_ id: Int16, _ value: Int32?) {
        if let value { i32(id, value) }
    }

    mutating func i64(_ id: Int16, _ value: Int64) {
        fieldHeader(id, .i64)
        writeZigzag(value)
    }

    mutating func i64(_ id: Int16, _ value: Int64?) {
        if let value { i64(id, value) }
    }

    mutating func i16Field(_ id: Int16, _ value: Int16) {
        fieldHeader(id, .i16)
        writeZigzag(Int64(value))
    }

    mutating func byte(_ id: Int16, _ value: Int8) {
        fieldHeader(id, .byte)
        bytes.append(UInt8(bitPattern: value))
    }

    mutating func bool(_ id: Int16, _ value: Bool) {
        fieldHeader(id, value ? .boolTrue : .boolFalse)
    }

    mutating func bool(_ id: Int16, _ value: Bool?) {
        if let value { bool(id, value) }
    }

    mutating func binary(_ id: Int16, _ value: [UInt8]) {
        fieldHeader(id, .binary)
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func binary(_ id: Int16, _ value: [UInt8]?) {
        if let value { binary(id, value) }
    }

    mutating func string(_ id: Int16, _ value: String) {
        binary(id, Array(value.utf8))
    }

    mutating func string(_ id: Int16, _ value: String?) {
        if let value { string(id, value) }
    }

    /// Opens a nested struct field; close it with `endStruct()`.
    mutating func beginStruct(_ id: Int16) {
        fieldHeader(id, .structure)
        lastFieldId.append(0)
    }

    /// Ends a struct (nested or a list element): writes the stop byte.
    mutating func endStruct() {
        bytes.append(0)
        lastFieldId.removeLast()
    }

    /// Begins a struct that is a list element (no field header).
    mutating func beginListElement() {
        lastFieldId.append(0)
    }

    mutating func listHeader(_ id: Int16, elementType: ThriftType, count: Int) {
        fieldHeader(id, .list)
        if count < 15 {
            bytes.append(UInt8(count << 4) | elementType.rawValue)
        } else {
            bytes.append(0xF0 | elementType.rawValue)
            writeVarint(UInt64(count))
        }
    }

    mutating func i32List(_ id: Int16, _ values: [Int32]) {
        listHeader(id, elementType: .i32, count: values.count)
        for v in values { writeZigzag(Int64(v)) }
    }

    mutating func stringList(_ id: Int16, _ values: [String]) {
        listHeader(id, elementType: .binary, count: values.count)
        for v in values {
            let utf8 = Array(v.utf8)
            writeVarint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// Writes the final stop byte of the outermost struct.
    mutating func endTopLevel() {
        bytes.append(0)
    }
}

/// Compact protocol type codes (the low nibble of a field header).
enum ThriftType: UInt8 {
    case stop = 0
    case boolTrue = 1
    case boolFalse = 2
    case byte = 3
    case i16 = 4
    case i32 = 5
    case i64 = 6
    case double = 7
    case binary = 8
    case list = 9
    case set = 10
    case map = 11
    case structure = 12
}
