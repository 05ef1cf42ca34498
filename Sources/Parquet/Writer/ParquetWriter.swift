import Codecs

/// Per-column figures of a written file (summed over row groups), for Iceberg data-file metrics.
public struct ParquetColumnSummary: Sendable, Hashable {
    public var name: String
    public var fieldId: Int32?
    /// Values including nulls (Iceberg `value_counts`).
    public var valueCount: Int64
    public var nullCount: Int64
    /// Bytes of the column's chunks on disk, page headers included (Iceberg `column_sizes`).
    public var compressedSize: Int64
    public var uncompressedSize: Int64
    /// The smallest and largest non-null value, PLAIN-encoded (little-endian numbers, raw bytes for
    /// BYTE_ARRAY/FIXED_LEN_BYTE_ARRAY); nil when the column has no non-null (non-NaN) values.
    public var minValue: [UInt8]?
    public var maxValue: [UInt8]?
}

/// What `ParquetWriter.close()` reports about the file it wrote.
public struct ParquetWriteResult: Sendable {
    public var rowCount: Int64
    public var fileSize: Int64
    /// Start offsets of the row groups (Iceberg `split_offsets`).
    public var rowGroupOffsets: [Int64]
    public var columns: [ParquetColumnSummary]
    public var metadata: ParquetFileMetaData
}

/// Writes a Parquet file with a flat schema, column-oriented: each `write(_:)` takes one `ColumnData` per
/// schema column, all with the same number of rows. Rows are buffered per row group (pages compressed as
/// they fill) and each row group is written when it reaches `rowGroupBytes`; `close()` writes the footer.
///
/// ```swift
/// let out = ParquetMemoryOutput()
/// let writer = try ParquetWriter(schema: ParquetSchema([.int64("offset", fieldId: 4)]), output: out)
/// try writer.write([ColumnData(.int64([1, 2, 3]))])
/// let result = try writer.close()   // out.bytes is the file
/// ```
///
/// Not thread-safe. Data pages are v1; levels use the RLE/bit-packed hybrid; values are dictionary encoded
/// (RLE_DICTIONARY + PLAIN dictionary page) until the dictionary passes its limit, then PLAIN.
public final class ParquetWriter {
    public let schema: ParquetSchema
    public let options: ParquetWriterOptions
    private let output: ParquetOutput
    private var columns: [ColumnChunkWriter]
    private var offset: Int64 = 0
    private var rowGroups: [ParquetRowGroup] = []
    private var rowsInGroup = 0
    private var totalRows: Int64 = 0
    private var closed = false

    /// Rows handed to the column writers at a time, so row groups can be cut inside a large batch.
    private static let sliceRows = 4096

    public init(schema: ParquetSchema, options: ParquetWriterOptions = ParquetWriterOptions(), output: ParquetOutput) throws {
        guard !schema.columns.isEmpty else { throw ParquetError.invalidInput("schema has no columns") }
        if case .deflate = options.compression { throw ParquetError.invalidInput("Parquet has no raw deflate codec; use gzip") }
        for c in schema.columns {
            if c.repetition == .repeated { throw ParquetError.invalidInput("column \(c.name): repeated columns are not supported") }
            if c.physicalType == .fixedLenByteArray && (c.typeLength ?? 0) <= 0 {
                throw ParquetError.invalidInput("column \(c.name): FIXED_LEN_BYTE_ARRAY needs a positive typeLength")
            }
            if c.physicalType == .int96 { throw ParquetError.invalidInput("column \(c.name): INT96 is read-only") }
        }
        self.schema = schema
        self.options = options
        self.output = output
        self.columns = schema.columns.map { ColumnChunkWriter(column: $0, options: options, compressor: BlockCompressor()) }
        try [UInt8]("PAR1".utf8).withUnsafeBytes { try output.write($0) }
        offset = 4
    }

    /// Appends a batch of rows: one `ColumnData` per schema column, in schema order.
    public func write(_ batch: [ColumnData]) throws {
        guard !closed else { throw ParquetError.invalidInput("write after close") }
        guard batch.count == columns.count else {
            throw ParquetError.invalidInput("batch has \(batch.count) columns, schema has \(columns.count)")
        }
        let rows = batch[0].rowCount
        for (i, data) in batch.enumerated() {
            guard data.rowCount == rows else {
                throw ParquetError.invalidInput("column \(schema.columns[i].name) has \(data.rowCount) rows, column \(schema.columns[0].name) has \(rows)")
            }
            let nonNull = data.validity.map { $0.reduce(0) { $0 + ($1 ? 1 : 0) } } ?? rows
            guard data.values.count == nonNull else {
                throw ParquetError.invalidInput("column \(schema.columns[i].name) has \(data.values.count) values for \(nonNull) non-null rows")
            }
        }
        var valueCursor = [Int](repeating: 0, count: columns.count)
        var start = 0
        while start < rows {
            let end = min(rows, start + Self.sliceRows, start + (options.rowGroupRows - rowsInGroup))
            for i in columns.indices {
                valueCursor[i] = try columns[i].append(batch[i], rows: start..<end, valueStart: valueCursor[i])
            }
            rowsInGroup += end - start
            start = end
            if rowsInGroup >= options.rowGroupRows || bufferedBytes >= options.rowGroupBytes {
                try flushRowGroup()
            }
        }
    }

    private var bufferedBytes: Int { columns.reduce(0) { $0 + $1.bufferedBytes } }

    /// Writes the open row group now (normally done by size).
    public func flushRowGroup() throws {
        guard rowsInGroup > 0 else { return }
        var rg = ParquetRowGroup()
        let start = offset
        var uncompressed: Int64 = 0
        for i in columns.indices {
            let chunk = try columns[i].finishChunk(output: output, offset: offset)
            let md = chunk.metaData!
            offset += md.totalCompressedSize
            uncompressed += md.totalUncompressedSize
            rg.columns.append(chunk)
        }
        rg.numRows = Int64(rowsInGroup)
        rg.totalByteSize = uncompressed
        rg.fileOffset = start
        rg.totalCompressedSize = offset - start
        rg.ordinal = Int16(truncatingIfNeeded: rowGroups.count)
        rowGroups.append(rg)
        totalRows += Int64(rowsInGroup)
        rowsInGroup = 0
    }

    /// Writes the last row group and the footer. The output is complete when this returns.
    @discardableResult
    public func close() throws -> ParquetWriteResult {
        guard !closed else { throw ParquetError.invalidInput("writer already closed") }
        try flushRowGroup()
        closed = true
        var md = ParquetFileMetaData()
        md.version = 1
        var root = ParquetSchemaElement()
        root.name = schema.rootName
        root.numChildren = Int32(schema.columns.count)
        md.schema = [root] + schema.columns.map(Self.schemaElement)
        md.numRows = totalRows
        md.rowGroups = rowGroups
        md.keyValueMetadata = options.keyValueMetadata.isEmpty ? nil : options.keyValueMetadata
        md.createdBy = options.createdBy
        md.columnOrderCount = schema.columns.count
        var footer = ThriftCompactWriter()
        footer.write(md)
        let length = UInt32(footer.bytes.count)
        footer.bytes.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 24)])
        footer.bytes.append(contentsOf: "PAR1".utf8)
        try footer.bytes.withUnsafeBytes { try output.write($0) }
        offset += Int64(footer.bytes.count)
        let summaries = columns.map { c in
            ParquetColumnSummary(
                name: c.column.name, fieldId: c.column.fieldId, valueCount: c.fileValues, nullCount: c.fileNulls,
                compressedSize: c.fileCompressed, uncompressedSize: c.fileUncompressed, minValue: c.fileMin, maxValue: c.fileMax)
        }
        return ParquetWriteResult(
            rowCount: totalRows, fileSize: offset, rowGroupOffsets: rowGroups.map { $0.fileOffset ?? 0 },
            columns: summaries, metadata: md)
    }

    static func schemaElement(_ c: ParquetColumn) -> ParquetSchemaElement {
        var e = ParquetSchemaElement()
        e.name = c.name
        e.type = c.physicalType
        e.repetition = c.repetition
        e.fieldId = c.fieldId
        e.logicalType = c.logicalType
        if c.physicalType == .fixedLenByteArray { e.typeLength = c.typeLength }
        switch c.logicalType {
        case .string: e.convertedType = 0
        case .date: e.convertedType = 6
        case .json: e.convertedType = 19
        case .decimal(let precision, let scale):
            e.convertedType = 5
            e.precision = precision
            e.scale = scale
        case .timestamp(true, .millis): e.convertedType = 9
        case .timestamp(true, .micros): e.convertedType = 10
        case .time(true, .millis): e.convertedType = 7
        case .time(true, .micros): e.convertedType = 8
        case .integer(let width, let signed):
            let base: Int32 = signed ? 15 : 11  // INT_8.. / UINT_8..
            switch width {
            case 8: e.convertedType = base
            case 16: e.convertedType = base + 1
            case 32: e.convertedType = base + 2
            case 64: e.convertedType = base + 3
            default: break
            }
        default: break
        }
        return e
    }
}
