/// Variable-length values (BYTE_ARRAY) stored flat: value `i` is `bytes[offsets[i]..<offsets[i+1]]`.
/// One contiguous buffer instead of an array per value, so writing and reading do not allocate per value.
public struct ByteArrayValues: Sendable, Hashable {
    public var bytes: [UInt8]
    /// `count + 1` offsets into `bytes`, starting at 0.
    public var offsets: [Int]

    public init() {
        bytes = []
        offsets = [0]
    }

    public init(bytes: [UInt8], offsets: [Int]) {
        precondition(offsets.first == 0 && offsets.last == bytes.count, "offsets must run from 0 to bytes.count")
        self.bytes = bytes
        self.offsets = offsets
    }

    public init<S: Sequence>(_ values: S) where S.Element == [UInt8] {
        self.init()
        for v in values { append(v) }
    }

    public init<S: Sequence>(strings: S) where S.Element == String {
        self.init()
        for s in strings { append(contentsOf: s.utf8) }
    }

    public var count: Int { offsets.count - 1 }

    public mutating func reserve(values: Int, bytes byteCount: Int) {
        offsets.reserveCapacity(values + 1)
        bytes.reserveCapacity(byteCount)
    }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
        offsets.removeAll(keepingCapacity: keepingCapacity)
        offsets.append(0)
    }

    public mutating func append<C: Collection>(contentsOf value: C) where C.Element == UInt8 {
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    /// The same for raw bytes, without the generic path (called once per row by writers that buffer rows).
    public mutating func append(contentsOf value: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    public mutating func append(contentsOf value: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
    }

    public mutating func append(_ value: [UInt8]) {
        append(contentsOf: value)
    }

    public subscript(i: Int) -> ArraySlice<UInt8> { bytes[offsets[i]..<offsets[i + 1]] }

    public func string(at i: Int) -> String { String(decoding: self[i], as: UTF8.self) }

    /// Copies out every value (convenient in tests; allocates one array per value).
    public var arrays: [[UInt8]] { (0..<count).map { Array(self[$0]) } }
}

/// Fixed-width values (FIXED_LEN_BYTE_ARRAY, and INT96 when read): value `i` is `bytes[i*width..<(i+1)*width]`.
public struct FixedLenByteArrayValues: Sendable, Hashable {
    public var bytes: [UInt8]
    public var width: Int

    public init(width: Int, bytes: [UInt8] = []) {
        precondition(width > 0 && bytes.count % width == 0, "bytes must hold whole values")
        self.width = width
        self.bytes = bytes
    }

    public var count: Int { bytes.count / width }
    public subscript(i: Int) -> ArraySlice<UInt8> { bytes[i * width..<(i + 1) * width] }
    public var arrays: [[UInt8]] { (0..<count).map { Array(self[$0]) } }
}

/// The non-null values of a column batch, typed by physical type.
///
/// DATE is `.int32` (days since 1970-01-01), TIMESTAMP is `.int64` in the column's unit, decimals are
/// `.fixedLenByteArray` (big-endian two's complement unscaled values) or `.int32`/`.int64`.
public enum ColumnValues: Sendable, Hashable {
    case boolean([Bool])
    case int32([Int32])
    case int64([Int64])
    case float([Float])
    case double([Double])
    case byteArray(ByteArrayValues)
    case fixedLenByteArray(FixedLenByteArrayValues)

    public var count: Int {
        switch self {
        case .boolean(let v): return v.count
        case .int32(let v): return v.count
        case .int64(let v): return v.count
        case .float(let v): return v.count
        case .double(let v): return v.count
        case .byteArray(let v): return v.count
        case .fixedLenByteArray(let v): return v.count
        }
    }
}

/// One column of a batch of rows: the non-null values, densely packed, and which rows are non-null.
///
/// `validity` has one entry per row (`true` = the row has a value); nil means every row has a value.
/// `values.count` equals the number of `true` entries (or `rowCount` when `validity` is nil).
public struct ColumnData: Sendable, Hashable {
    public var values: ColumnValues
    public var validity: [Bool]?

    public init(_ values: ColumnValues, validity: [Bool]? = nil) {
        self.values = values
        self.validity = validity
    }

    public var rowCount: Int { validity?.count ?? values.count }
    public var nullCount: Int { validity.map { $0.count - values.count } ?? 0 }
}
