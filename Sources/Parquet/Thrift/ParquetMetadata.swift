// The footer and page-header structures of parquet.thrift, limited to the fields this library uses.
// Field ids follow parquet-format's parquet.thrift; unknown fields are skipped when decoding.

/// parquet.thrift `Encoding`, kept as a raw value so unknown encodings survive decoding.
public struct ParquetEncoding: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let plain = ParquetEncoding(rawValue: 0)
    public static let plainDictionary = ParquetEncoding(rawValue: 2)
    public static let rle = ParquetEncoding(rawValue: 3)
    public static let bitPacked = ParquetEncoding(rawValue: 4)
    public static let deltaBinaryPacked = ParquetEncoding(rawValue: 5)
    public static let deltaLengthByteArray = ParquetEncoding(rawValue: 6)
    public static let deltaByteArray = ParquetEncoding(rawValue: 7)
    public static let rleDictionary = ParquetEncoding(rawValue: 8)
    public static let byteStreamSplit = ParquetEncoding(rawValue: 9)
    public var description: String {
        switch rawValue {
        case 0: return "PLAIN"
        case 2: return "PLAIN_DICTIONARY"
        case 3: return "RLE"
        case 4: return "BIT_PACKED"
        case 5: return "DELTA_BINARY_PACKED"
        case 6: return "DELTA_LENGTH_BYTE_ARRAY"
        case 7: return "DELTA_BYTE_ARRAY"
        case 8: return "RLE_DICTIONARY"
        case 9: return "BYTE_STREAM_SPLIT"
        default: return "encoding(\(rawValue))"
        }
    }
}

/// parquet.thrift `CompressionCodec`.
public struct ParquetCompression: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let uncompressed = ParquetCompression(rawValue: 0)
    public static let snappy = ParquetCompression(rawValue: 1)
    public static let gzip = ParquetCompression(rawValue: 2)
    public static let lzo = ParquetCompression(rawValue: 3)
    public static let brotli = ParquetCompression(rawValue: 4)
    public static let lz4 = ParquetCompression(rawValue: 5)
    public static let zstd = ParquetCompression(rawValue: 6)
    public static let lz4Raw = ParquetCompression(rawValue: 7)
    public var description: String {
        ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"].indices.contains(Int(rawValue))
            ? ["UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"][Int(rawValue)] : "codec(\(rawValue))"
    }
}

/// parquet.thrift `Statistics`. `minValue`/`maxValue` are the PLAIN encoding of one value (without the
/// BYTE_ARRAY length prefix); `min`/`max` are the deprecated fields older writers fill.
public struct ParquetStatistics: Sendable, Hashable {
    public var max: [UInt8]?
    public var min: [UInt8]?
    public var nullCount: Int64?
    public var distinctCount: Int64?
    public var maxValue: [UInt8]?
    public var minValue: [UInt8]?
    public init() {}
}

public struct ParquetKeyValue: Sendable, Hashable {
    public var key: String
    public var value: String?
    public init(key: String, value: String?) {
        self.key = key
        self.value = value
    }
}

/// parquet.thrift `SchemaElement`.
public struct ParquetSchemaElement: Sendable, Hashable {
    public var type: ParquetPhysicalType?
    public var typeLength: Int32?
    public var repetition: ParquetRepetition?
    public var name: String = ""
    public var numChildren: Int32?
    public var convertedType: Int32?
    public var scale: Int32?
    public var precision: Int32?
    public var fieldId: Int32?
    public var logicalType: ParquetLogicalType?
    public init() {}
}

/// parquet.thrift `ColumnMetaData`.
public struct ParquetColumnMetaData: Sendable, Hashable {
    public var type: ParquetPhysicalType = .int32
    public var encodings: [ParquetEncoding] = []
    public var pathInSchema: [String] = []
    public var codec: ParquetCompression = .uncompressed
    public var numValues: Int64 = 0
    public var totalUncompressedSize: Int64 = 0
    public var totalCompressedSize: Int64 = 0
    public var keyValueMetadata: [ParquetKeyValue]?
    public var dataPageOffset: Int64 = 0
    public var indexPageOffset: Int64?
    public var dictionaryPageOffset: Int64?
    public var statistics: ParquetStatistics?
    public init() {}

    /// Where the chunk's first page starts (the dictionary page when there is one).
    public var chunkStart: Int64 {
        if let d = dictionaryPageOffset, d > 0, d < dataPageOffset { return d }
        return dataPageOffset
    }
}

/// parquet.thrift `ColumnChunk`.
public struct ParquetColumnChunk: Sendable, Hashable {
    public var filePath: String?
    public var fileOffset: Int64 = 0
    public var metaData: ParquetColumnMetaData?
    public init() {}
}

/// parquet.thrift `RowGroup`.
public struct ParquetRowGroup: Sendable, Hashable {
    public var columns: [ParquetColumnChunk] = []
    public var totalByteSize: Int64 = 0
    public var numRows: Int64 = 0
    public var fileOffset: Int64?
    public var totalCompressedSize: Int64?
    public var ordinal: Int16?
    public init() {}
}

/// parquet.thrift `FileMetaData` (the footer).
public struct ParquetFileMetaData: Sendable, Hashable {
    public var version: Int32 = 1
    public var schema: [ParquetSchemaElement] = []
    public var numRows: Int64 = 0
    public var rowGroups: [ParquetRowGroup] = []
    public var keyValueMetadata: [ParquetKeyValue]?
    public var createdBy: String?
    /// Number of `ColumnOrder` entries; each written as TYPE_ORDER (the only order parquet.thrift defines).
    public var columnOrderCount: Int?
    public init() {}
}

/// parquet.thrift `PageType`.
enum PageType: Int32 {
    case dataPage = 0
    case indexPage = 1
    case dictionaryPage = 2
    case dataPageV2 = 3
}

struct DataPageHeader {
    var numValues: Int32 = 0
    var encoding: ParquetEncoding = .plain
    var definitionLevelEncoding: ParquetEncoding = .rle
    var repetitionLevelEncoding: ParquetEncoding = .rle
}

struct DataPageHeaderV2 {
    var numValues: Int32 = 0
    var numNulls: Int32 = 0
    var numRows: Int32 = 0
    var encoding: ParquetEncoding = .plain
    var definitionLevelsByteLength: Int32 = 0
    var repetitionLevelsByteLength: Int32 = 0
    var isCompressed: Bool = true
}

struct DictionaryPageHeader {
    var numValues: Int32 = 0
    var encoding: ParquetEncoding = .plain
    var isSorted: Bool?
}

/// parquet.thrift `PageHeader`.
struct PageHeader {
    var type: Int32 = 0
    var uncompressedPageSize: Int32 = 0
    var compressedPageSize: Int32 = 0
    var crc: Int32?
    var dataPageHeader: DataPageHeader?
    var dictionaryPageHeader: DictionaryPageHeader?
    var dataPageHeaderV2: DataPageHeaderV2?
}

// MARK: - Encoding

extension ThriftCompactWriter {
    mutating func write(_ s: ParquetStatistics, field: Int16) {
        beginStruct(field)
        binary(1, s.max)
        binary(2, s.min)
        i64(3, s.nullCount)
        i64(4, s.distinctCount)
        binary(5, s.maxValue)
        binary(6, s.minValue)
        endStruct()
    }

    private mutating func writeTimeUnit(_ unit: ParquetTimeUnit, field: Int16) {
        beginStruct(field)
        switch unit {
        case .millis: beginStruct(1)
        case .micros: beginStruct(2)
        case .nanos: beginStruct(3)
        }
        endStruct()
        endStruct()
    }

    mutating func write(_ t: ParquetLogicalType, field: Int16) {
        beginStruct(field)
        switch t {
        case .string: beginStruct(1); endStruct()
        case .date: beginStruct(6); endStruct()
        case .json: beginStruct(12); endStruct()
        case .uuid: beginStruct(14); endStruct()
        case .decimal(let precision, let scale):
            beginStruct(5)
            i32(1, scale)
            i32(2, precision)
            endStruct()
        case .time(let utc, let unit), .timestamp(let utc, let unit):
            if case .time = t { beginStruct(7) } else { beginStruct(8) }
            bool(1, utc)
            writeTimeUnit(unit, field: 2)
            endStruct()
        case .integer(let bitWidth, let signed):
            beginStruct(10)
            byte(1, bitWidth)
            bool(2, signed)
            endStruct()
        case .other(let id):
            beginStruct(id); endStruct()
        }
        endStruct()
    }

    mutating func write(_ e: ParquetSchemaElement) {
        beginListElement()
        i32(1, e.type?.rawValue)
        i32(2, e.typeLength)
        i32(3, e.repetition?.rawValue)
        string(4, e.name)
        i32(5, e.numChildren)
        i32(6, e.convertedType)
        i32(7, e.scale)
        i32(8, e.precision)
        i32(9, e.fieldId)
        if let t = e.logicalType { write(t, field: 10) }
        endStruct()
    }

    mutating func writeKeyValues(_ kvs: [ParquetKeyValue], field: Int16) {
        listHeader(field, elementType: .structure, count: kvs.count)
        for kv in kvs {
            beginListElement()
            string(1, kv.key)
            string(2, kv.value)
            endStruct()
        }
    }

    mutating func write(_ m: ParquetColumnMetaData, field: Int16) {
        beginStruct(field)
        i32(1, m.type.rawValue)
        i32List(2, m.encodings.map(\.rawValue))
        stringList(3, m.pathInSchema)
        i32(4, m.codec.rawValue)
        i64(5, m.numValues)
        i64(6, m.totalUncompressedSize)
        i64(7, m.totalCompressedSize)
        if let kvs = m.keyValueMetadata { writeKeyValues(kvs, field: 8) }
        i64(9, m.dataPageOffset)
        i64(10, m.indexPageOffset)
        i64(11, m.dictionaryPageOffset)
        if let s = m.statistics { write(s, field: 12) }
        endStruct()
    }

    mutating func write(_ m: ParquetFileMetaData) {
        i32(1, m.version)
        listHeader(2, elementType: .structure, count: m.schema.count)
        for e in m.schema { write(e) }
        i64(3, m.numRows)
        listHeader(4, elementType: .structure, count: m.rowGroups.count)
        for rg in m.rowGroups {
            beginListElement()
            listHeader(1, elementType: .structure, count: rg.columns.count)
            for c in rg.columns {
                beginListElement()
                string(1, c.filePath)
                i64(2, c.fileOffset)
                if let md = c.metaData { write(md, field: 3) }
                endStruct()
            }
            i64(2, rg.totalByteSize)
            i64(3, rg.numRows)
            i64(5, rg.fileOffset)
            i64(6, rg.totalCompressedSize)
            if let o = rg.ordinal {
                // i16 field
                beginI16(7, o)
            }
            endStruct()
        }
        if let kvs = m.keyValueMetadata { writeKeyValues(kvs, field: 5) }
        string(6, m.createdBy)
        if let n = m.columnOrderCount {
            listHeader(7, elementType: .structure, count: n)
            for _ in 0..<n {
                beginListElement()
                beginStruct(1)  // TYPE_ORDER: TypeDefinedOrder (empty)
                endStruct()
                endStruct()
            }
        }
        endTopLevel()
    }

    private mutating func beginI16(_ id: Int16, _ value: Int16) {
        // i16 uses the same zigzag varint as i32, with type code 4.
        i16Field(id, value)
    }

    mutating func write(_ h: PageHeader) {
        i32(1, h.type)
        i32(2, h.uncompressedPageSize)
        i32(3, h.compressedPageSize)
        i32(4, h.crc)
        if let d = h.dataPageHeader {
            beginStruct(5)
            i32(1, d.numValues)
            i32(2, d.encoding.rawValue)
            i32(3, d.definitionLevelEncoding.rawValue)
            i32(4, d.repetitionLevelEncoding.rawValue)
            endStruct()
        }
        if let d = h.dictionaryPageHeader {
            beginStruct(7)
            i32(1, d.numValues)
            i32(2, d.encoding.rawValue)
            bool(3, d.isSorted)
            endStruct()
        }
        if let d = h.dataPageHeaderV2 {
            beginStruct(8)
            i32(1, d.numValues)
            i32(2, d.numNulls)
            i32(3, d.numRows)
            i32(4, d.encoding.rawValue)
            i32(5, d.definitionLevelsByteLength)
            i32(6, d.repetitionLevelsByteLength)
            bool(7, d.isCompressed)
            endStruct()
        }
        endTopLevel()
    }
}

// MARK: - Decoding

extension ThriftCompactReader {
    mutating func readStatistics() throws -> ParquetStatistics {
        var s = ParquetStatistics()
        try beginStruct()
        while let (id, type) = try nextField() {
            switch (id, type) {
            case (1, .binary): s.max = try binary()
            case (2, .binary): s.min = try binary()
            case (3, .i64): s.nullCount = try i64()
            case (4, .i64): s.distinctCount = try i64()
            case (5, .binary): s.maxValue = try binary()
            case (6, .binary): s.minValue = try binary()
            default: try skip(type)
            }
        }
        return s
    }

    private mutating func readTimeUnit() throws -> ParquetTimeUnit? {
        var unit: ParquetTimeUnit?
        try beginStruct()
        while let (id, type) = try nextField() {
            switch (id, type) {
            case (1, .structure): unit = .millis
            case (2, .structure): unit = .micros
            case (3, .structure): unit = .nanos
            default: break
            }
            try skip(type)
        }
        return unit
    }

    mutating func readLogicalType() throws -> ParquetLogicalType? {
        var result: ParquetLogicalType?
        try beginStruct()
        while let (id, type) = try nextField() {
            guard type == .structure else { try skip(type); continue }
            switch id {
            case 1: result = .string; try skip(type)
            case 6: result = .date; try skip(type)
            case 12: result = .json; try skip(type)
            case 14: result = .uuid; try skip(type)
            case 5:
                var scale: Int32 = 0, precision: Int32 = 0
                try beginStruct()
                while let (fid, ftype) = try nextField() {
                    switch (fid, ftype) {
                    case (1, .i32): scale = try i32()
                    case (2, .i32): precision = try i32()
                    default: try skip(ftype)
                    }
                }
                result = .decimal(precision: precision, scale: scale)
            case 7, 8:
                var utc = false
                var unit: ParquetTimeUnit?
                try beginStruct()
                while let (fid, ftype) = try nextField() {
                    switch (fid, ftype) {
                    case (1, .boolTrue), (1, .boolFalse): utc = try bool(ftype)
                    case (2, .structure): unit = try readTimeUnit()
                    default: try skip(ftype)
                    }
                }
                if let unit {
                    result = id == 7 ? .time(isAdjustedToUTC: utc, unit: unit) : .timestamp(isAdjustedToUTC: utc, unit: unit)
                } else {
                    result = .other(id)
                }
            case 10:
                var width: Int8 = 0
                var signed = true
                try beginStruct()
                while let (fid, ftype) = try nextField() {
                    switch (fid, ftype) {
                    case (1, .byte): width = try byteValue()
                    case (2, .boolTrue), (2, .boolFalse): signed = try bool(ftype)
                    default: try skip(ftype)
                    }
                }
                result = .integer(bitWidth: width, isSigned: signed)
            default:
                result = .other(id)
                try skip(type)
            }
        }
        return result
    }

    mutating func readSchemaElement() throws -> ParquetSchemaElement {
        var e = ParquetSchemaElement()
        try beginStruct()
        while let (id, type) = try nextField() {
            switch (id, type) {
            case (1, .i32): e.type = ParquetPhysicalType(rawValue: try i32())
            case (2, .i32): e.typeLength = try i32()
            case (3, .i32): e.repetition = ParquetRepetition(rawValue: try i32())
            case (4, .binary): e.name = try string()
            case (5, .i32): e.numChildren = try i32()
            case (6, .i32): e.convertedType = try i32()
            case (7, .i32): e.scale = try i32()
            case (8, .i32): e.precision = try i32()
            case (9, .i32): e.fieldId = try i32()
            case (10, .structure): e.logicalType = try readLogicalType()
            default: try skip(type)
            }
        }
        return e
    }

    mutating func readKeyValues() throws -> [ParquetKeyValue] {
        let (type, count) = try listHeader()
        var out: [ParquetKeyValue] = []
        for _ in 0..<count {
            guard type == .structure else { try skip(type); continue }
            var key = ""
            var value: String?
            try beginStruct()
            while let (id, ftype) = try nextField() {
                switch (id, ftype) {
                case (1, .binary): key = try string()
                case (2, .binary): value = try string()
                default: try skip(ftype)
                }
            }
            out.append(ParquetKeyValue(key: key, value: value))
        }
        return out
    }

    mutating func readColumnMetaData() throws -> ParquetColumnMetaData {
        var m = ParquetColumnMetaData()
        try beginStruct()
        while let (id, type) = try nextField() {
            switch (id, type) {
            case (1, .i32):
                let raw = try i32()
                guard let t = ParquetPhysicalType(rawValue: raw) else { throw DecodeError(message: "unknown physical type \(raw)", offset: position) }
                m.type = t
            case (2, .list): m.encodings = try i32List().map(ParquetEncoding.init(rawValue:))
            case (3, .list): m.pathInSchema = try stringList()
            case (4, .i32): m.codec = ParquetCompression(rawValue: try i32())
            case (5, .i64): m.numValues = try i64()
            case (6, .i64): m.totalUncompressedSize = try i64()
            case (7, .i64): m.totalCompressedSize = try i64()
            case (8, .list): m.keyValueMetadata = try readKeyValues()
            case (9, .i64): m.dataPageOffset = try i64()
            case (10, .i64): m.indexPageOffset = try i64()
            case (11, .i64): m.dictionaryPageOffset = try i64()
            case (12, .structure): m.statistics = try readStatistics()
            default: try skip(type)
            }
        }
        return m
    }

    mutating func readRowGroup() throws -> ParquetRowGroup {
        var rg = ParquetRowGroup()
        try beginStruct()
        while let (id, type) = try nextField() {
            switch (id, type) {
            case (1, .list):
                let (etype, count) = try listHeader()
                for _ in 0..<count {
                    guard etype == .structure else { try skip(etype); continue }
                    var c = ParquetColumnChunk()
                    try beginStruct()
                    while let (cid, ctype) = try nextField() {
                        switch (cid, ctype) {
                        case (1, .binary): c.filePath = try string()
                        case (2, .i64): c.fileOffset = try i64()
                        case (3, .structure): c.metaData = try readColumnMetaData()
                        default: try skip(ctype)
                        }
                    }
                    rg.columns.append(c)
                }
            case (2, .i64): rg.totalByteSize = try i64()
            case (3, .i64): rg.numRows = try i64()
            case (5, .i64): rg.fileOffset = try i64()
            case (6, .i64): rg.totalCompressedSize = try i64()
            case (7, .i16): rg.ordinal = try i16()
            default: try skip(type)
            }
        }
        return rg
    }

    /// Reads a FileMetaData (the caller positions the reader at the footer start).
    mutating func readFileMetaData() throws -> ParquetFileMetaData {
        var m = ParquetFileMetaData()
        try beginStruct()
        while let (id, type) = try nextField() {
            switch (id, type) {
            case (1, .i32): m.version = try i32()
            case (2, .list):
                let (etype, count) = try listHeader()
                for _ in 0..<count {
                    guard etype == .structure else { try skip(etype); continue }
                    m.schema.append(try readSchemaElement())
                }
            case (3, .i64): m.numRows = try i64()
            case (4, .list):
                let (etype, count) = try listHeader()
                for _ in 0..<count {
                    guard etype == .structure else { try skip(etype); continue }
                    m.rowGroups.append(try readRowGroup())
                }
            case (5, .list): m.keyValueMetadata = try readKeyValues()
            case (6, .binary): m.createdBy = try string()
            case (7, .list):
                let (etype, count) = try listHeader()
                for _ in 0..<count { try skip(etype) }
                m.columnOrderCount = count
            default: try skip(type)
            }
        }
        return m
    }

    mutating func readPageHeader() throws -> PageHeader {
        var h = PageHeader()
        var sawType = false, sawSizes = 0
        try beginStruct()
        while let (id, type) = try nextField() {
            switch (id, type) {
            case (1, .i32): h.type = try i32(); sawType = true
            case (2, .i32): h.uncompressedPageSize = try i32(); sawSizes += 1
            case (3, .i32): h.compressedPageSize = try i32(); sawSizes += 1
            case (4, .i32): h.crc = try i32()
            case (5, .structure):
                var d = DataPageHeader()
                try beginStruct()
                while let (fid, ftype) = try nextField() {
                    switch (fid, ftype) {
                    case (1, .i32): d.numValues = try i32()
                    case (2, .i32): d.encoding = ParquetEncoding(rawValue: try i32())
                    case (3, .i32): d.definitionLevelEncoding = ParquetEncoding(rawValue: try i32())
                    case (4, .i32): d.repetitionLevelEncoding = ParquetEncoding(rawValue: try i32())
                    default: try skip(ftype)
                    }
                }
                h.dataPageHeader = d
            case (7, .structure):
                var d = DictionaryPageHeader()
                try beginStruct()
                while let (fid, ftype) = try nextField() {
                    switch (fid, ftype) {
                    case (1, .i32): d.numValues = try i32()
                    case (2, .i32): d.encoding = ParquetEncoding(rawValue: try i32())
                    case (3, .boolTrue), (3, .boolFalse): d.isSorted = try bool(ftype)
                    default: try skip(ftype)
                    }
                }
                h.dictionaryPageHeader = d
            case (8, .structure):
                var d = DataPageHeaderV2()
                try beginStruct()
                while let (fid, ftype) = try nextField() {
                    switch (fid, ftype) {
                    case (1, .i32): d.numValues = try i32()
                    case (2, .i32): d.numNulls = try i32()
                    case (3, .i32): d.numRows = try i32()
                    case (4, .i32): d.encoding = ParquetEncoding(rawValue: try i32())
                    case (5, .i32): d.definitionLevelsByteLength = try i32()
                    case (6, .i32): d.repetitionLevelsByteLength = try i32()
                    case (7, .boolTrue), (7, .boolFalse): d.isCompressed = try bool(ftype)
                    default: try skip(ftype)
                    }
                }
                h.dataPageHeaderV2 = d
            default: try skip(type)
            }
        }
        guard sawType, sawSizes == 2 else {
            throw DecodeError(message: "page header lacks its type or sizes", offset: position)
        }
        guard h.compressedPageSize >= 0, h.uncompressedPageSize >= 0 else {
            throw DecodeError(message: "negative page size", offset: position)
        }
        // Counts come from untrusted bytes: negative ones would trap in ranges and allocations.
        let counts = [h.dataPageHeader?.numValues, h.dictionaryPageHeader?.numValues, h.dataPageHeaderV2?.numValues,
                      h.dataPageHeaderV2?.numNulls, h.dataPageHeaderV2?.numRows].compactMap { $0 }
        guard counts.allSatisfy({ $0 >= 0 }) else {
            throw DecodeError(message: "negative value count in page header", offset: position)
        }
        if let v2 = h.dataPageHeaderV2, v2.numNulls > v2.numValues {
            throw DecodeError(message: "data page v2 has \(v2.numNulls) nulls among \(v2.numValues) values", offset: position)
        }
        return h
    }
}
