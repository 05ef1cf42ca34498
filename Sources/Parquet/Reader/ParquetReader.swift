import Codecs

/// Names a column to read: by name, or by field id (Iceberg). Files written without field ids (tables
/// migrated or filled with `add_files`) are read by name, which the Iceberg layer derives from
/// `schema.name-mapping.default`.
public enum ParquetColumnSelector: Sendable, Hashable {
    case name(String)
    case fieldId(Int32)
}

/// A row-group filter: keep a row group only when the column's [min, max] statistics may overlap
/// [lower, upper] (inclusive; nil = unbounded). Bounds are PLAIN-encoded values like the statistics
/// (use the `int32`/`int64`/`bytes` helpers). Row groups without statistics are always kept.
public struct ParquetRangePredicate: Sendable, Hashable {
    public var column: ParquetColumnSelector
    public var lower: [UInt8]?
    public var upper: [UInt8]?

    public init(column: ParquetColumnSelector, lower: [UInt8]?, upper: [UInt8]?) {
        self.column = column
        self.lower = lower
        self.upper = upper
    }

    public static func int64(_ column: ParquetColumnSelector, _ range: ClosedRange<Int64>) -> ParquetRangePredicate {
        ParquetRangePredicate(column: column, lower: plain(range.lowerBound), upper: plain(range.upperBound))
    }

    public static func int32(_ column: ParquetColumnSelector, _ range: ClosedRange<Int32>) -> ParquetRangePredicate {
        ParquetRangePredicate(column: column, lower: plain(range.lowerBound), upper: plain(range.upperBound))
    }

    public static func bytes(_ column: ParquetColumnSelector, lower: [UInt8]?, upper: [UInt8]?) -> ParquetRangePredicate {
        ParquetRangePredicate(column: column, lower: lower, upper: upper)
    }

    static func plain<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
}

/// Reads flat Parquet files: the footer on open, then whole column chunks on demand (only the columns
/// asked for). Reads what this library writes and what parquet-mr (Spark, Flink, Java Iceberg) and Arrow
/// write: PLAIN, dictionary (PLAIN_DICTIONARY/RLE_DICTIONARY), DELTA_BINARY_PACKED,
/// DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT, RLE booleans; data pages v1 and v2;
/// uncompressed, snappy, gzip, zstd and LZ4_RAW. Nested (group) columns are skipped.
///
/// ```swift
/// let reader = try ParquetReader(path: "/tmp/x.parquet")
/// let columns = try reader.read(columns: [.name("partition"), .name("offset")])
/// ```
/// Not thread-safe; errors name the file, row group, column and byte offset.
public final class ParquetReader {
    public let input: ParquetInput
    public let metadata: ParquetFileMetaData
    /// The top-level leaf columns, in file order.
    public let schema: ParquetSchema
    /// For each schema column, the index of its chunk within a row group.
    private let chunkIndex: [Int]
    private let compressor = BlockCompressor()

    public var rowCount: Int64 { metadata.numRows }
    public var rowGroupCount: Int { metadata.rowGroups.count }

    public convenience init(path: String) throws {
        try self.init(input: ParquetFileInput(path: path))
    }

    public init(input: ParquetInput) throws {
        self.input = input
        let name = input.name
        let size = input.size
        guard size >= 12 else {
            throw ParquetError.corrupt(file: name, "file of \(size) bytes is too small to be Parquet (at least 12 bytes)")
        }
        let head = try input.read(offset: 0, length: 4)
        guard head == Array("PAR1".utf8) else {
            throw ParquetError.corrupt(file: name, "bad magic at offset 0: \(head) is not PAR1")
        }
        let tail = try input.read(offset: size - 8, length: 8)
        if Array(tail[4..<8]) == Array("PARE".utf8) {
            throw ParquetError.unsupported(file: name, "encrypted footer (PARE)")
        }
        guard Array(tail[4..<8]) == Array("PAR1".utf8) else {
            throw ParquetError.corrupt(file: name, "bad magic at offset \(size - 4): \(Array(tail[4..<8])) is not PAR1 (truncated file?)")
        }
        let footerLength = Int64(UInt32(tail[0]) | UInt32(tail[1]) << 8 | UInt32(tail[2]) << 16 | UInt32(tail[3]) << 24)
        guard footerLength > 0, footerLength <= size - 12 else {
            throw ParquetError.corrupt(file: name, "footer length \(footerLength) is beyond the file's \(size) bytes")
        }
        let footerStart = size - 8 - footerLength
        let footer = try input.read(offset: footerStart, length: Int(footerLength))
        var thrift = ThriftCompactReader(bytes: footer)
        do {
            metadata = try thrift.readFileMetaData()
        } catch let e as ThriftCompactReader.DecodeError {
            throw ParquetError.corrupt(file: name, "footer decode failure at byte \(footerStart + Int64(e.offset)): \(e.message)")
        }
        (schema, chunkIndex) = try Self.flatSchema(metadata, file: name)
        // Every chunk must lie between the header magic and the footer.
        for (g, rg) in metadata.rowGroups.enumerated() {
            guard rg.columns.count == Self.leafCount(metadata) else {
                throw ParquetError.corrupt(file: name, "row group \(g) has \(rg.columns.count) column chunks, the schema has \(Self.leafCount(metadata)) leaves")
            }
            for (c, chunk) in rg.columns.enumerated() {
                guard let md = chunk.metaData else {
                    throw ParquetError.corrupt(file: name, "row group \(g) column chunk \(c) has no metadata")
                }
                let start = md.chunkStart
                guard start >= 4, md.totalCompressedSize >= 0, start + md.totalCompressedSize <= footerStart else {
                    throw ParquetError.corrupt(file: name, "row group \(g) column \(md.pathInSchema.joined(separator: ".")): chunk at \(start) of \(md.totalCompressedSize) bytes lies outside the data (footer starts at \(footerStart))")
                }
            }
        }
    }

    private static func leafCount(_ m: ParquetFileMetaData) -> Int {
        m.schema.dropFirst().filter { ($0.numChildren ?? 0) == 0 }.count
    }

    /// The top-level leaves of the schema tree and their chunk indexes; nested leaves only advance the index.
    private static func flatSchema(_ m: ParquetFileMetaData, file: String) throws -> (ParquetSchema, [Int]) {
        guard let root = m.schema.first else { throw ParquetError.corrupt(file: file, "footer has an empty schema") }
        var columns: [ParquetColumn] = []
        var chunks: [Int] = []
        var leaf = 0
        var i = 1
        // Walks one subtree, returning the index after it.
        func walk(_ index: Int, depth: Int) throws -> Int {
            guard index < m.schema.count else { throw ParquetError.corrupt(file: file, "schema tree is truncated") }
            guard depth < 100 else { throw ParquetError.corrupt(file: file, "schema nested too deeply") }
            let e = m.schema[index]
            let children = Int(e.numChildren ?? 0)
            guard children >= 0, children <= m.schema.count else {
                throw ParquetError.corrupt(file: file, "schema element \(e.name) has \(children) children")
            }
            if children == 0 {
                if depth == 1 {
                    guard let type = e.type else { throw ParquetError.corrupt(file: file, "leaf column \(e.name) has no type") }
                    let c = ParquetColumn(name: e.name, physicalType: type, logicalType: e.logicalType ?? legacyLogicalType(e),
                                          repetition: e.repetition ?? .optional, fieldId: e.fieldId, typeLength: e.typeLength)
                    if c.physicalType == .fixedLenByteArray && (c.typeLength ?? 0) <= 0 {
                        throw ParquetError.corrupt(file: file, "FIXED_LEN_BYTE_ARRAY column \(e.name) has no type_length")
                    }
                    if c.repetition != .repeated {
                        columns.append(c)
                        chunks.append(leaf)
                    }
                }
                leaf += 1
                return index + 1
            }
            var next = index + 1
            for _ in 0..<children { next = try walk(next, depth: depth + 1) }
            return next
        }
        let rootChildren = Int(root.numChildren ?? 0)
        guard rootChildren >= 0, rootChildren < m.schema.count else {
            throw ParquetError.corrupt(file: file, "schema root has \(rootChildren) children, the schema \(m.schema.count - 1) elements")
        }
        for _ in 0..<rootChildren { i = try walk(i, depth: 1) }
        return (ParquetSchema(columns, rootName: root.name), chunks)
    }

    /// Logical type from the legacy ConvertedType, for files that only carry that.
    private static func legacyLogicalType(_ e: ParquetSchemaElement) -> ParquetLogicalType? {
        switch e.convertedType {
        case 0: return .string
        case 5: return .decimal(precision: e.precision ?? 0, scale: e.scale ?? 0)
        case 6: return .date
        case 7: return .time(isAdjustedToUTC: true, unit: .millis)
        case 8: return .time(isAdjustedToUTC: true, unit: .micros)
        case 9: return .timestamp(isAdjustedToUTC: true, unit: .millis)
        case 10: return .timestamp(isAdjustedToUTC: true, unit: .micros)
        // UINT_8/16/32/64 and INT_8/16/32/64: readers must know a column is unsigned.
        case 11: return .integer(bitWidth: 8, isSigned: false)
        case 12: return .integer(bitWidth: 16, isSigned: false)
        case 13: return .integer(bitWidth: 32, isSigned: false)
        case 14: return .integer(bitWidth: 64, isSigned: false)
        case 15: return .integer(bitWidth: 8, isSigned: true)
        case 16: return .integer(bitWidth: 16, isSigned: true)
        case 17: return .integer(bitWidth: 32, isSigned: true)
        case 18: return .integer(bitWidth: 64, isSigned: true)
        case 19: return .json
        default: return nil
        }
    }

    /// The schema index of a selected column, or nil when the file has no such column.
    public func columnIndex(_ selector: ParquetColumnSelector) -> Int? {
        switch selector {
        case .name(let n): return schema.index(ofName: n)
        case .fieldId(let id): return schema.index(ofFieldId: id)
        }
    }

    /// The footer metadata of column `column` (schema index) in row group `rowGroup`.
    public func columnMetaData(rowGroup: Int, column: Int) -> ParquetColumnMetaData {
        metadata.rowGroups[rowGroup].columns[chunkIndex[column]].metaData!
    }

    /// Row groups that may hold rows matching every predicate (by their min/max statistics).
    public func rowGroups(matching predicates: [ParquetRangePredicate]) throws -> [Int] {
        var resolved: [(Int, ParquetRangePredicate)] = []
        for p in predicates {
            guard let c = columnIndex(p.column) else {
                throw ParquetError.invalidInput("\(input.name) has no column \(p.column)")
            }
            resolved.append((c, p))
        }
        return metadata.rowGroups.indices.filter { g in
            resolved.allSatisfy { mayMatch(rowGroup: g, column: $0.0, $0.1) }
        }
    }

    private func mayMatch(rowGroup g: Int, column c: Int, _ p: ParquetRangePredicate) -> Bool {
        let md = columnMetaData(rowGroup: g, column: c)
        guard let stats = md.statistics else { return true }
        if let nulls = stats.nullCount, nulls == md.numValues, md.numValues > 0 { return false }
        let order = ParquetSortOrder(schema.columns[c])
        var lo = stats.minValue, hi = stats.maxValue
        if lo == nil || hi == nil {
            // The deprecated fields were compared as signed values: trust them only for signed numbers.
            switch order {
            case .signedInt32, .signedInt64, .float, .double, .boolean: lo = stats.min; hi = stats.max
            default: return true
            }
        }
        guard let lo, let hi, order != .undefined else { return true }
        if let upper = p.upper, order.compare(lo, upper) > 0 { return false }
        if let lower = p.lower, order.compare(hi, lower) < 0 { return false }
        return true
    }

    /// Reads the selected columns of one row group.
    public func readRowGroup(_ rowGroup: Int, columns selectors: [ParquetColumnSelector]) throws -> [ColumnData] {
        let indexes = try resolve(selectors)
        return try indexes.map { try readColumn(rowGroup: rowGroup, column: $0) }
    }

    /// Reads the selected columns (all when nil) of every row group that passes `predicates`, concatenated.
    public func read(columns selectors: [ParquetColumnSelector]? = nil, where predicates: [ParquetRangePredicate] = []) throws -> [ColumnData] {
        let indexes = try selectors.map(resolve) ?? Array(schema.columns.indices)
        let groups = try rowGroups(matching: predicates)
        return try indexes.map { c in
            let column = schema.columns[c]
            var sink = ValueSink(physicalType: column.physicalType, width: Int(column.typeLength ?? 0))
            var validity: [Bool] = []
            for g in groups { try decodeChunk(rowGroup: g, column: c, sink: &sink, validity: &validity) }
            return ColumnData(sink.values, validity: column.maxDefinitionLevel > 0 && validity.contains(false) ? validity : nil)
        }
    }

    private func resolve(_ selectors: [ParquetColumnSelector]) throws -> [Int] {
        try selectors.map { s in
            guard let c = columnIndex(s) else { throw ParquetError.invalidInput("\(input.name) has no column \(s)") }
            return c
        }
    }

    /// Reads column `column` (schema index) of row group `rowGroup`.
    public func readColumn(rowGroup: Int, column: Int) throws -> ColumnData {
        let col = schema.columns[column]
        var sink = ValueSink(physicalType: col.physicalType, width: Int(col.typeLength ?? 0))
        var validity: [Bool] = []
        try decodeChunk(rowGroup: rowGroup, column: column, sink: &sink, validity: &validity)
        return ColumnData(sink.values, validity: col.maxDefinitionLevel > 0 && validity.contains(false) ? validity : nil)
    }

    private func decodeChunk(rowGroup g: Int, column c: Int, sink: inout ValueSink, validity: inout [Bool]) throws {
        guard metadata.rowGroups.indices.contains(g) else { throw ParquetError.invalidInput("\(input.name) has no row group \(g)") }
        let column = schema.columns[c]
        let md = columnMetaData(rowGroup: g, column: c)
        guard md.type == column.physicalType else {
            throw ParquetError.corrupt(file: input.name, "row group \(g) column \(column.name): chunk type \(md.type) differs from the schema's \(column.physicalType)")
        }
        let start = md.chunkStart
        let bytes = try input.read(offset: start, length: Int(md.totalCompressedSize))
        let valuesBefore = sink.count
        let reader = ColumnChunkReader(column: column, metaData: md, compressor: compressor)
        do {
            let rows = try reader.decode(bytes, into: &sink, validity: &validity)
            let expectedRows = metadata.rowGroups[g].numRows
            guard Int64(rows) == md.numValues, md.numValues == expectedRows else {
                throw PageDecodeError("decoded \(rows) values, chunk says \(md.numValues), row group has \(expectedRows) rows")
            }
            if column.maxDefinitionLevel == 0 {
                guard sink.count - valuesBefore == rows else { throw PageDecodeError("decoded \(sink.count - valuesBefore) values for \(rows) rows") }
            }
        } catch let e as PageDecodeError {
            throw ParquetError.corrupt(file: input.name, "row group \(g) column \(column.name) (chunk at byte \(start)): \(e.description)")
        }
    }
}
