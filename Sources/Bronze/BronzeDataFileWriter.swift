import Codecs
import Foundation
import Iceberg
import Parquet

/// Writes a batch of Bronze rows as one Parquet data file of a table and describes it as an Iceberg
/// `DataFile`: partition tuple, record count, size, split offsets and column metrics (value, null counts,
/// sizes, lower/upper bounds; binary and string bounds truncated to 16 as Iceberg's default
/// `write.metadata.metrics.default=truncate(16)`).
///
/// Written here because the Iceberg module has no Parquet data-file writer yet; it only needs the table
/// and the Parquet module, so the Iceberg module can adopt it as a general data-file writer.
public struct BronzeDataFileWriter {
    public let table: Table
    public let style: BronzeTableStyle
    public let ids: BronzeColumnIds
    public let options: ParquetWriterOptions
    private let schema: ParquetSchema

    public init(table: Table, style: BronzeTableStyle, ids: BronzeColumnIds) throws {
        self.table = table
        self.style = style
        self.ids = ids
        let properties = table.metadata.properties
        var options = ParquetWriterOptions()
        let codec = (properties["write.parquet.compression-codec"] ?? "zstd").lowercased()
        switch codec {
        case "zstd":
            let level = properties["write.parquet.compression-level"].flatMap(Int32.init) ?? 3
            options.compression = .zstd(level: level)
        case "snappy": options.compression = .snappy
        case "gzip": options.compression = .gzip(level: 6)
        case "uncompressed", "none": options.compression = .none
        case "lz4": options.compression = .lz4
        default:
            throw BronzeTableError.unsupported("table \(table.identifier): write.parquet.compression-codec \(codec) is not supported")
        }
        if let rowGroup = properties["write.parquet.row-group-size-bytes"].flatMap(Int.init), rowGroup > 0 {
            options.rowGroupBytes = rowGroup
        }
        if let page = properties["write.parquet.page-size-bytes"].flatMap(Int.init), page > 0 { options.pageBytes = page }
        // Trade values are (nearly) all distinct: a dictionary would only be built to be abandoned.
        options.plainColumns = ["raw_bytes"]
        options.keyValueMetadata = [ParquetKeyValue(key: "iceberg.schema", value: table.metadata.currentSchema.toJSON().serialized())]
        self.options = options
        let repetition: ParquetRepetition = style == .flink ? .required : .optional
        let utc = style == .spark
        schema = ParquetSchema([
            .binary("raw_bytes", repetition, fieldId: Int32(ids.rawBytes)),
            .string("topic", repetition, fieldId: Int32(ids.topic)),
            .int32("partition", repetition, fieldId: Int32(ids.partition)),
            .int64("offset", repetition, fieldId: Int32(ids.offset)),
            .timestamp("kafka_timestamp", unit: .micros, isAdjustedToUTC: utc, repetition, fieldId: Int32(ids.kafkaTimestamp)),
            .timestamp("ingestion_timestamp", unit: .micros, isAdjustedToUTC: utc, repetition, fieldId: Int32(ids.ingestionTimestamp)),
            .date("ingestion_date", repetition, fieldId: Int32(ids.ingestionDate)),
        ], rootName: "table")
    }

    /// Target size of a data file: the table's `write.target-file-size-bytes`, else Iceberg's default.
    public var targetFileSize: Int64 {
        table.metadata.properties["write.target-file-size-bytes"].flatMap(Int64.init) ?? BronzeTableStyle.defaultTargetFileSize
    }

    /// The directory (under the table's data path) of a partition, Hive-style as Java writes it.
    public func partitionPath(ingestionDate: Int32) throws -> String {
        let spec = table.metadata.defaultSpec
        let values = try spec.partition(of: [ids.ingestionDate: .date(ingestionDate)])
        return zip(spec.fields, values).map { field, value in
            let text: String
            switch value {
            case .date(let d)?: text = IcebergValue.date(d).description
            case let v?: text = v.description
            case nil: text = "null"
            }
            return "\(field.name)=\(text)"
        }.joined(separator: "/")
    }

    /// Encodes the batch (the whole batch becomes one file) and returns the file's bytes and description.
    public func encode(_ batch: BronzeRowBatch, location: String) throws -> (bytes: [UInt8], dataFile: DataFile) {
        if style == .flink && batch.hasNullOffsets {
            throw BronzeTableError.offsetRequired(table: table.identifier.description,
                                                  detail: "a row without a Kafka offset cannot be written to a Flink-style table")
        }
        let output = ParquetMemoryOutput(reservingCapacity: batch.estimatedBytes / 2 + 4096)
        let writer = try ParquetWriter(schema: schema, options: options, output: output)
        try writer.write(batch.columns())
        let result = try writer.close()
        let spec = table.metadata.defaultSpec
        let partition = try spec.partition(of: [ids.ingestionDate: .date(batch.ingestionDate)])
        var dataFile = DataFile(filePath: location, fileFormat: "PARQUET", specId: spec.specId, partition: partition,
                                recordCount: result.rowCount, fileSizeInBytes: result.fileSize,
                                splitOffsets: result.rowGroupOffsets)
        let types: [Int32: IcebergType] = Dictionary(uniqueKeysWithValues:
            table.metadata.currentSchema.fields.map { (Int32($0.id), $0.type) })
        for column in result.columns {
            guard let id = column.fieldId else { continue }
            let key = Int(id)
            dataFile.columnSizes[key] = column.compressedSize
            dataFile.valueCounts[key] = column.valueCount
            dataFile.nullValueCounts[key] = column.nullCount
            let type = types[id]
            if let min = column.minValue { dataFile.lowerBounds[key] = Self.lowerBound(min, type: type) }
            if let max = column.maxValue, let upper = Self.upperBound(max, type: type) { dataFile.upperBounds[key] = upper }
        }
        return (output.bytes, dataFile)
    }

    /// Writes the batch under the table's data path and returns the `DataFile` to commit.
    public func write(_ batch: BronzeRowBatch) async throws -> DataFile {
        let name = "\(UUID().uuidString.lowercased()).parquet"
        let location = "\(table.metadata.dataDirectory)/\(try partitionPath(ingestionDate: batch.ingestionDate))/\(name)"
        let (bytes, dataFile) = try encode(batch, location: location)
        try await table.io.write(location, contents: bytes)
        return dataFile
    }

    static let truncateLength = 16

    /// Parquet PLAIN min values are Iceberg single-value bytes for ints, longs, dates and timestamps;
    /// strings and binaries are truncated (a prefix is still a lower bound).
    static func lowerBound(_ plain: [UInt8], type: IcebergType?) -> [UInt8] {
        switch type {
        case .binary?: return Array(plain.prefix(truncateLength))
        case .string?:
            let scalars = String(decoding: plain, as: UTF8.self).unicodeScalars
            return Array(String(String.UnicodeScalarView(scalars.prefix(truncateLength))).utf8)
        default: return plain
        }
    }

    /// A truncated upper bound must be rounded up: the prefix with its last byte (code point) incremented;
    /// nil when no such bound exists (all 0xFF), in which case no upper bound is recorded.
    static func upperBound(_ plain: [UInt8], type: IcebergType?) -> [UInt8]? {
        switch type {
        case .binary?:
            guard plain.count > truncateLength else { return plain }
            var prefix = Array(plain.prefix(truncateLength))
            while let last = prefix.last {
                if last < 0xFF { prefix[prefix.count - 1] = last + 1; return prefix }
                prefix.removeLast()
            }
            return nil
        case .string?:
            let scalars = Array(String(decoding: plain, as: UTF8.self).unicodeScalars)
            guard scalars.count > truncateLength else { return plain }
            var prefix = Array(scalars.prefix(truncateLength))
            while let last = prefix.last {
                var next = last.value + 1
                if next == 0xD800 { next = 0xE000 }
                if next <= 0x10FFFF, let scalar = Unicode.Scalar(next) {
                    prefix[prefix.count - 1] = scalar
                    return Array(String(String.UnicodeScalarView(prefix)).utf8)
                }
                prefix.removeLast()
            }
            return nil
        default: return plain
        }
    }
}
