/// Accumulates the decoded non-null values of one column (across pages and row groups) in the typed
/// arrays `ColumnValues` exposes; INT96 values land in fixed-width 12-byte values.
struct ValueSink {
    let physicalType: ParquetPhysicalType
    let width: Int
    var booleans: [Bool] = []
    var int32s: [Int32] = []
    var int64s: [Int64] = []
    var floats: [Float] = []
    var doubles: [Double] = []
    var byteArrays = ByteArrayValues()
    var fixed: [UInt8] = []

    init(physicalType: ParquetPhysicalType, width: Int) {
        self.physicalType = physicalType
        self.width = physicalType == .int96 ? 12 : width
    }

    var count: Int {
        switch physicalType {
        case .boolean: return booleans.count
        case .int32: return int32s.count
        case .int64: return int64s.count
        case .float: return floats.count
        case .double: return doubles.count
        case .byteArray: return byteArrays.count
        case .fixedLenByteArray, .int96: return fixed.count / width
        }
    }

    var values: ColumnValues {
        switch physicalType {
        case .boolean: return .boolean(booleans)
        case .int32: return .int32(int32s)
        case .int64: return .int64(int64s)
        case .float: return .float(floats)
        case .double: return .double(doubles)
        case .byteArray: return .byteArray(byteArrays)
        case .fixedLenByteArray, .int96: return .fixedLenByteArray(FixedLenByteArrayValues(width: width, bytes: fixed))
        }
    }

    /// Appends `count` PLAIN-encoded values from `cursor`.
    mutating func appendPlain(_ cursor: inout ByteCursor, count: Int) throws {
        let base = cursor.base
        switch physicalType {
        case .boolean:
            let bytes = (count + 7) / 8
            guard cursor.remaining >= bytes else { throw PageDecodeError("PLAIN booleans: \(count) values need \(bytes) bytes, \(cursor.remaining) left") }
            booleans.reserveCapacity(booleans.count + count)
            for i in 0..<count { booleans.append(base[cursor.position + i >> 3] >> UInt8(i & 7) & 1 == 1) }
            cursor.position += bytes
        case .int32: try appendFixed(&cursor, count: count, into: &int32s) { $0 }
        case .int64: try appendFixed(&cursor, count: count, into: &int64s) { $0 }
        case .float: try appendFixed(&cursor, count: count, into: &floats) { (v: UInt32) in Float(bitPattern: v) }
        case .double: try appendFixed(&cursor, count: count, into: &doubles) { (v: UInt64) in Double(bitPattern: v) }
        case .byteArray:
            byteArrays.offsets.reserveCapacity(byteArrays.offsets.count + count)
            for _ in 0..<count {
                let n = Int(try cursor.uint32LE())
                guard cursor.remaining >= n else { throw PageDecodeError("PLAIN byte array of \(n) bytes, \(cursor.remaining) left") }
                byteArrays.append(contentsOf: UnsafeRawBufferPointer(rebasing: base[cursor.position..<cursor.position + n]))
                cursor.position += n
            }
        case .fixedLenByteArray, .int96:
            let n = count * width
            guard cursor.remaining >= n else { throw PageDecodeError("PLAIN fixed-width values: need \(n) bytes, \(cursor.remaining) left") }
            fixed.append(contentsOf: UnsafeRawBufferPointer(rebasing: base[cursor.position..<cursor.position + n]))
            cursor.position += n
        }
    }

    private func appendFixed<Raw: FixedWidthInteger, T>(
        _ cursor: inout ByteCursor, count: Int, into array: inout [T], _ convert: (Raw) -> T
    ) throws {
        let size = MemoryLayout<Raw>.size
        guard cursor.remaining >= count * size else {
            throw PageDecodeError("PLAIN values: \(count) values need \(count * size) bytes, \(cursor.remaining) left")
        }
        array.reserveCapacity(array.count + count)
        let base = cursor.base
        var p = cursor.position
        for _ in 0..<count {
            array.append(convert(Raw(littleEndian: base.loadUnaligned(fromByteOffset: p, as: Raw.self))))
            p += size
        }
        cursor.position = p
    }

    /// Appends `dictionary[index]` for each index.
    mutating func appendFromDictionary(_ dictionary: ValueSink, indices: [UInt32]) throws {
        let limit = UInt32(dictionary.count)
        for i in indices where i >= limit {
            throw PageDecodeError("dictionary index \(i) out of range (dictionary has \(limit) values)")
        }
        switch physicalType {
        case .boolean: for i in indices { booleans.append(dictionary.booleans[Int(i)]) }
        case .int32: int32s.reserveCapacity(int32s.count + indices.count); for i in indices { int32s.append(dictionary.int32s[Int(i)]) }
        case .int64: int64s.reserveCapacity(int64s.count + indices.count); for i in indices { int64s.append(dictionary.int64s[Int(i)]) }
        case .float: for i in indices { floats.append(dictionary.floats[Int(i)]) }
        case .double: for i in indices { doubles.append(dictionary.doubles[Int(i)]) }
        case .byteArray:
            dictionary.byteArrays.bytes.withUnsafeBytes { dict in
                for i in indices {
                    let k = Int(i)
                    byteArrays.append(contentsOf: UnsafeRawBufferPointer(rebasing: dict[dictionary.byteArrays.offsets[k]..<dictionary.byteArrays.offsets[k + 1]]))
                }
            }
        case .fixedLenByteArray, .int96:
            for i in indices {
                let k = Int(i) * width
                fixed.append(contentsOf: dictionary.fixed[k..<k + width])
            }
        }
    }

    /// Appends integers decoded by DELTA_BINARY_PACKED.
    mutating func appendIntegers(_ values: [Int64]) throws {
        switch physicalType {
        case .int32: for v in values { int32s.append(Int32(truncatingIfNeeded: v)) }
        case .int64: int64s.append(contentsOf: values)
        default: throw PageDecodeError("DELTA_BINARY_PACKED on a \(physicalType) column")
        }
    }

    /// Appends one byte-array (or fixed-width) value.
    mutating func appendBytes(_ value: UnsafeRawBufferPointer) throws {
        switch physicalType {
        case .byteArray: byteArrays.append(contentsOf: value)
        case .fixedLenByteArray:
            guard value.count == width else { throw PageDecodeError("value of \(value.count) bytes in a column of width \(width)") }
            fixed.append(contentsOf: value)
        default: throw PageDecodeError("byte-array encoding on a \(physicalType) column")
        }
    }

    /// BYTE_STREAM_SPLIT: byte `b` of value `i` is at `b * count + i`.
    mutating func appendByteStreamSplit(_ cursor: inout ByteCursor, count: Int) throws {
        let size: Int
        switch physicalType {
        case .int32, .float: size = 4
        case .int64, .double: size = 8
        case .fixedLenByteArray: size = width
        default: throw PageDecodeError("BYTE_STREAM_SPLIT on a \(physicalType) column")
        }
        guard cursor.remaining >= count * size else { throw PageDecodeError("BYTE_STREAM_SPLIT: need \(count * size) bytes, \(cursor.remaining) left") }
        var scratch = [UInt8](repeating: 0, count: count * size)
        let base = cursor.base, start = cursor.position
        for i in 0..<count {
            for b in 0..<size { scratch[i * size + b] = base[start + b * count + i] }
        }
        cursor.position += count * size
        try scratch.withUnsafeBytes { buf in
            var plain = ByteCursor(buf)
            try appendPlain(&plain, count: count)
        }
    }
}
