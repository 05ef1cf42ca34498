import Codecs
import Foundation
import Parquet
#if canImport(Glibc)
import Glibc
#endif

/// Writes a table's rows as Parquet data files and describes them as Iceberg `DataFile`s (metrics and
/// bounds included), ready for `FastAppend`.
///
/// Rows come column-oriented, one batch per partition (the caller knows each row's partition: for the
/// Bronze tables it is the ingestion day). A file per partition is open at a time and rolled once it
/// reaches `write.target-file-size-bytes`. Codec from `write.parquet.compression-codec` (and
/// `write.parquet.compression-level`), field ids from the table schema. Files are uploaded whole through
/// the table's FileIO when rolled or at `finish()`, so a crash leaves no partial data file.
public final class DataFileWriter {
    public let table: Table
    public let parquetSchema: ParquetSchema
    public let targetFileSize: Int
    private let schema: Schema
    private let spec: PartitionSpec
    private let options: ParquetWriterOptions
    private var open: [[IcebergValue?]: OpenFile] = [:]
    private var completed: [DataFile] = []
    private let writeUUID = UUID().uuidString.lowercased()
    private var fileCounter = 0
    /// Bounds of string and binary columns are truncated to this many characters/bytes, as Java's
    /// default metrics mode `truncate(16)` does.
    public static let boundLength = 16

    public init(table: Table) throws {
        self.table = table
        schema = table.metadata.currentSchema
        spec = table.metadata.defaultSpec
        parquetSchema = ParquetSchema(try schema.fields.map(Self.parquetColumn))
        let props = table.metadata.properties
        var options = ParquetWriterOptions()
        let codecName = (props["write.parquet.compression-codec"] ?? "zstd").lowercased()
        let level = props["write.parquet.compression-level"].flatMap(Int32.init)
        switch codecName {
        case "zstd": options.compression = .zstd(level: level ?? 3)
        case "snappy": options.compression = .snappy
        case "gzip": options.compression = .gzip(level: level ?? 6)
        case "uncompressed", "none": options.compression = .none
        case "lz4": options.compression = .lz4
        default:
            throw IcebergError.invalidArgument("table \(table.identifier): unsupported write.parquet.compression-codec \(codecName)")
        }
        targetFileSize = Int(props["write.target-file-size-bytes"] ?? "") ?? 536_870_912
        options.rowGroupBytes = min(targetFileSize, Int(props["write.parquet.row-group-size-bytes"] ?? "") ?? 134_217_728)
        if let page = props["write.parquet.page-size-bytes"].flatMap(Int.init) { options.pageBytes = page }
        self.options = options
    }

    /// The Parquet column for a top-level Iceberg field (flat schemas only).
    static func parquetColumn(_ f: NestedField) throws -> ParquetColumn {
        let rep: ParquetRepetition = f.required ? .required : .optional
        let id = Int32(f.id)
        switch f.type {
        case .boolean: return .boolean(f.name, rep, fieldId: id)
        case .int: return .int32(f.name, rep, fieldId: id)
        case .long: return .int64(f.name, rep, fieldId: id)
        case .float: return .float(f.name, rep, fieldId: id)
        case .double: return .double(f.name, rep, fieldId: id)
        case .date: return .date(f.name, rep, fieldId: id)
        case .time:
            return ParquetColumn(name: f.name, physicalType: .int64, logicalType: .time(isAdjustedToUTC: false, unit: .micros),
                                 repetition: rep, fieldId: id)
        case .timestamp: return .timestamp(f.name, unit: .micros, isAdjustedToUTC: false, rep, fieldId: id)
        case .timestamptz: return .timestamp(f.name, unit: .micros, isAdjustedToUTC: true, rep, fieldId: id)
        case .timestampNs: return .timestamp(f.name, unit: .nanos, isAdjustedToUTC: false, rep, fieldId: id)
        case .timestamptzNs: return .timestamp(f.name, unit: .nanos, isAdjustedToUTC: true, rep, fieldId: id)
        case .string: return .string(f.name, rep, fieldId: id)
        case .binary: return .binary(f.name, rep, fieldId: id)
        case .uuid:
            return ParquetColumn(name: f.name, physicalType: .fixedLenByteArray, logicalType: .uuid, repetition: rep, fieldId: id, typeLength: 16)
        case .fixed(let n):
            return ParquetColumn(name: f.name, physicalType: .fixedLenByteArray, repetition: rep, fieldId: id, typeLength: Int32(n))
        case .decimal(let p, let s): return .decimal(f.name, precision: Int32(p), scale: Int32(s), rep, fieldId: id)
        case .structType, .list, .map:
            throw IcebergError.invalidArgument("column \(f.name): nested types are not supported by the data file writer")
        }
    }

    /// Appends rows of one partition: one `ColumnData` per schema column, in schema order.
    public func write(_ batch: [ColumnData], partition: [IcebergValue?]) async throws {
        guard partition.count == spec.fields.count else {
            throw IcebergError.invalidArgument("\(partition.count) partition values for the \(spec.fields.count) fields of \(table.identifier)'s spec")
        }
        for (i, column) in parquetSchema.columns.enumerated() where column.repetition == .required {
            if let validity = batch[safe: i]?.validity, validity.contains(false) {
                throw IcebergError.invalidArgument("column \(column.name) of \(table.identifier) is required but the batch has nulls")
            }
        }
        let entry: OpenFile
        if let existing = open[partition] {
            entry = existing
        } else {
            entry = try OpenFile(location: try newLocation(partition), schema: parquetSchema, options: options, io: table.io)
            open[partition] = entry
        }
        do {
            try entry.writer.write(batch)
        } catch {
            // A failed write (ENOSPC) leaves this file unusable: its hidden temporary goes now, not at a later run.
            open[partition] = nil
            entry.abandon()
            throw error
        }
        if entry.output.count >= targetFileSize {
            try await closeFile(partition)
        }
    }

    /// Closes every open file and returns all data files written (in the order they were closed).
    public func finish() async throws -> [DataFile] {
        for key in open.keys.sorted(by: { $0.description < $1.description }) { try await closeFile(key) }
        return completed
    }

    /// Files already rolled (complete and uploaded).
    public var completedFiles: [DataFile] { completed }

    private func closeFile(_ partition: [IcebergValue?]) async throws {
        guard let file = open.removeValue(forKey: partition) else { return }
        let result = try await file.finish()
        completed.append(dataFile(result, location: file.location, partition: partition))
    }

    private func newLocation(_ partition: [IcebergValue?]) throws -> String {
        fileCounter += 1
        let path = zip(spec.fields, partition).map { field, value in
            "\(Self.escape(field.name))=\(Self.escape(Self.humanString(value, transform: field.transform)))"
        }.joined(separator: "/")
        let name = "00000-0-\(writeUUID)-\(String(format: "%05d", fileCounter)).parquet"
        return table.metadata.dataDirectory + (path.isEmpty ? "" : "/" + path) + "/" + name
    }

    /// The partition value as Iceberg prints it in paths (`2025-11-25` for days, `2025-11-25-10` for hours).
    static func humanString(_ value: IcebergValue?, transform: PartitionTransform) -> String {
        guard let value else { return "null" }
        switch (transform, value) {
        case (.year, .int(let y)): return String(format: "%04d", 1970 + Int(y))
        case (.month, .int(let m)):
            let y = 1970 + Int(PartitionTransform.floorDiv(Int64(m), 12)), mo = Int(PartitionTransform.floorMod(Int64(m), 12)) + 1
            return String(format: "%04d-%02d", y, mo)
        case (.hour, .int(let h)):
            let day = PartitionTransform.floorDiv(Int64(h), 24), hour = PartitionTransform.floorMod(Int64(h), 24)
            return IcebergValue.date(Int32(day)).description + String(format: "-%02d", hour)
        case (_, .string(let s)): return s
        default: return value.description
        }
    }

    static func escape(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "/=&+?#%"))) ?? s
    }

    private func dataFile(_ result: ParquetWriteResult, location: String, partition: [IcebergValue?]) -> DataFile {
        var sizes: [Int: Int64] = [:], values: [Int: Int64] = [:], nulls: [Int: Int64] = [:]
        var lower: [Int: [UInt8]] = [:], upper: [Int: [UInt8]] = [:]
        for (column, field) in zip(result.columns, schema.fields) {
            sizes[field.id] = column.compressedSize
            values[field.id] = column.valueCount
            nulls[field.id] = column.nullCount
            if let min = column.minValue, let b = Self.lowerBound(min, type: field.type) { lower[field.id] = b }
            if let max = column.maxValue, let b = Self.upperBound(max, type: field.type) { upper[field.id] = b }
        }
        return DataFile(filePath: location, fileFormat: "PARQUET", specId: spec.specId, partition: partition,
                        recordCount: result.rowCount, fileSizeInBytes: result.fileSize, columnSizes: sizes, valueCounts: values,
                        nullValueCounts: nulls, lowerBounds: lower, upperBounds: upper,
                        splitOffsets: result.rowGroupOffsets, sortOrderId: nil)
    }

    /// Parquet PLAIN statistics to Iceberg single-value bounds: numbers are the same little-endian bytes;
    /// decimals lose their sign-extension padding; strings and binary are truncated.
    static func lowerBound(_ plain: [UInt8], type: IcebergType) -> [UInt8]? {
        switch type {
        case .string: return Array(truncatedString(plain).utf8)
        case .binary: return Array(plain.prefix(boundLength))
        case .decimal: return IcebergValue.minimalTwosComplement(plain)
        case .boolean: return [plain.first ?? 0]
        default: return plain
        }
    }

    static func upperBound(_ plain: [UInt8], type: IcebergType) -> [UInt8]? {
        switch type {
        case .string:
            let text = String(decoding: plain, as: UTF8.self)
            let truncated = truncatedString(plain)
            if truncated.unicodeScalars.count == text.unicodeScalars.count { return plain }
            // Round the last kept character up so the result is still an upper bound.
            var scalars = Array(truncated.unicodeScalars)
            while let last = scalars.popLast() {
                var next = last.value + 1
                if (0xD800...0xDFFF).contains(next) { next = 0xE000 }
                if let s = Unicode.Scalar(next) {
                    scalars.append(s)
                    var out = ""
                    out.unicodeScalars.append(contentsOf: scalars)
                    return Array(out.utf8)
                }
            }
            return nil
        case .binary:
            if plain.count <= boundLength { return plain }
            var bytes = Array(plain.prefix(boundLength))
            while let last = bytes.popLast() {
                if last < 0xFF {
                    bytes.append(last + 1)
                    return bytes
                }
            }
            return nil
        default:
            return lowerBound(plain, type: type)
        }
    }

    private static func truncatedString(_ plain: [UInt8]) -> String {
        let text = String(decoding: plain, as: UTF8.self)
        var out = ""
        out.unicodeScalars.append(contentsOf: text.unicodeScalars.prefix(boundLength))
        return out
    }
}

/// One data file being written: local files stream to a hidden temporary file renamed into place when
/// complete (bounded memory); other storage gets the whole file in one atomic `FileIO.write`.
private final class OpenFile {
    let location: String
    let writer: ParquetWriter
    let output: CountingOutput
    private let io: any FileIO
    private let memory: ParquetMemoryOutput?
    private let file: ParquetFileOutput?
    private let temporaryPath: String?
    private let finalPath: String?

    init(location: String, schema: ParquetSchema, options: ParquetWriterOptions, io: any FileIO) throws {
        self.location = location
        self.io = io
        let local = io is LocalFileIO || (io as? RoutingFileIO)?.isLocal(location) == true
        if local, let path = try? LocalFileIO.path(of: location) {
            let directory = (path as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let temporary = directory + "/." + (path as NSString).lastPathComponent + ".tmp-" + UUID().uuidString.lowercased()
            let file = try ParquetFileOutput(path: temporary)
            self.file = file
            memory = nil
            temporaryPath = temporary
            finalPath = path
            output = CountingOutput(file)
        } else {
            let memory = ParquetMemoryOutput()
            self.memory = memory
            file = nil
            temporaryPath = nil
            finalPath = nil
            output = CountingOutput(memory)
        }
        writer = try ParquetWriter(schema: schema, options: options, output: output)
    }

    /// Set once the temporary is renamed into place or removed.
    private var settled = false

    deinit { abandon() }   // a writer dropped after an error elsewhere leaves no hidden temporary either

    /// Closes and deletes the hidden temporary (a file that will never be complete).
    func abandon() {
        guard !settled, let file, let temporaryPath else { return }
        settled = true
        try? file.close()
        unlink(temporaryPath)
    }

    func finish() async throws -> ParquetWriteResult {
        let result: ParquetWriteResult
        do {
            result = try writer.close()   // writes the last row group and the footer: ENOSPC shows here too
        } catch {
            abandon()
            throw error
        }
        if let file, let temporaryPath, let finalPath {
            do {
                try file.close(sync: true)
                guard rename(temporaryPath, finalPath) == 0 else {
                    throw LocalFileIO.error(errno, location, "rename")
                }
                settled = true
            } catch {
                settled = true
                unlink(temporaryPath)
                throw error
            }
        } else if let memory {
            try await io.write(location, contents: memory.bytes)
        }
        return result
    }
}

/// Counts the bytes a writer has emitted, for rolling files at the target size.
private final class CountingOutput: ParquetOutput {
    private let inner: ParquetOutput
    private(set) var count = 0
    init(_ inner: ParquetOutput) { self.inner = inner }
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        try inner.write(bytes)
        count += bytes.count
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
