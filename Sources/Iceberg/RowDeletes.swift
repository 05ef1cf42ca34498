import Foundation
import Parquet

/// A delete file that applies to a planned data file, with the data sequence number that orders it.
public struct ScanDeleteFile: Sendable, Equatable {
    public var file: DataFile
    public var sequenceNumber: Int64
}

/// The rows of one data file that its delete files remove (table spec, "Scan Planning" and "Delete Formats"):
/// positions from position delete files, and value tuples from equality delete files.
///
/// A row is deleted when its position (0-based, across all row groups of the file) is listed, or when its
/// values of an equality delete file's fields equal one of that file's rows (null equals null, as Java
/// Iceberg compares them).
public struct RowDeletes: Sendable {
    /// Sorted, without repeats.
    public private(set) var positions: [Int64] = []
    public private(set) var equality: [EqualityDeletes] = []

    /// The rows of one equality delete file: the field ids compared and the deleted value tuples.
    public struct EqualityDeletes: Sendable {
        public var fieldIds: [Int]
        public var keys: Set<[IcebergValue?]>
    }

    public init(positions: [Int64] = [], equality: [EqualityDeletes] = []) {
        self.positions = Array(Set(positions)).sorted()
        self.equality = equality.filter { !$0.keys.isEmpty }
    }

    public var isEmpty: Bool { positions.isEmpty && equality.isEmpty }

    /// The fields whose values a reader must supply to `deleted(...)`.
    public var equalityFieldIds: Set<Int> { Set(equality.flatMap(\.fieldIds)) }

    /// Which of `rowCount` consecutive rows starting at file position `firstRow` are deleted (true), or nil
    /// when none is. `columns` holds, for each of `equalityFieldIds`, those rows' values in `ScanReader`'s
    /// representation of the field's type.
    public func deleted(firstRow: Int64, rowCount: Int, columns: [Int: (ColumnData, IcebergType)]) throws -> [Bool]? {
        var mask: [Bool]?
        // Positions: binary search for the first position in range, then walk.
        var lo = 0, hi = positions.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if positions[mid] < firstRow { lo = mid + 1 } else { hi = mid }
        }
        let end = firstRow + Int64(rowCount)
        var i = lo
        while i < positions.count, positions[i] < end {
            if mask == nil { mask = [Bool](repeating: false, count: rowCount) }
            mask![Int(positions[i] - firstRow)] = true
            i += 1
        }
        for set in equality {
            let values: [[IcebergValue?]] = try set.fieldIds.map { id in
                guard let (data, type) = columns[id] else {
                    throw IcebergError.invalidArgument("equality delete field id \(id) was not read")
                }
                return IcebergValue.rows(of: data, type: type)
            }
            var key = [IcebergValue?](repeating: nil, count: values.count)
            for row in 0..<rowCount {
                for c in values.indices { key[c] = values[c][row] }
                if set.keys.contains(key) {
                    if mask == nil { mask = [Bool](repeating: false, count: rowCount) }
                    mask![row] = true
                }
            }
        }
        return mask
    }
}

extension IcebergValue {
    /// Every row of a column in `ScanReader`'s representation of `type` as a value (nil for null).
    static func rows(of data: ColumnData, type: IcebergType) -> [IcebergValue?] {
        var dense: [IcebergValue] = []
        switch data.values {
        case .boolean(let v): dense = v.map { .boolean($0) }
        case .int32(let v):
            dense = v.map { type == .date ? .date($0) : .int($0) }
        case .int64(let v):
            switch type {
            case .timestamp: dense = v.map { .timestamp($0) }
            case .timestamptz: dense = v.map { .timestamptz($0) }
            case .time: dense = v.map { .time($0) }
            default: dense = v.map { .long($0) }
            }
        case .float(let v): dense = v.map { .float($0) }
        case .double(let v): dense = v.map { .double($0) }
        case .byteArray(let v):
            dense = (0..<v.count).map { type == .string ? .string(v.string(at: $0)) : .binary(Array(v[$0])) }
        case .fixedLenByteArray(let v):
            dense = (0..<v.count).map { i -> IcebergValue in
                switch type {
                case .uuid: return .uuid(Array(v[i]))
                case .decimal(_, let scale): return .decimal(unscaled: Array(v[i]), scale: scale)
                default: return .fixed(Array(v[i]))
                }
            }
        }
        guard let validity = data.validity else { return dense }
        var out: [IcebergValue?] = []
        out.reserveCapacity(validity.count)
        var next = 0
        for valid in validity {
            if valid { out.append(dense[next]); next += 1 } else { out.append(nil) }
        }
        return out
    }
}

/// Reads delete files once and serves the deletes of each data file (a scan reads many data files that
/// share a partition's delete files). Not for concurrent use from several tasks at once.
public final class RowDeleteLoader: @unchecked Sendable {
    public let table: Table
    private let nameMapping: NameMapping?
    private let lock = NSLock()
    /// Position delete file → data file path → positions.
    private var positionFiles: [String: [String: [Int64]]] = [:]
    private var equalityFiles: [String: RowDeletes.EqualityDeletes] = [:]

    /// Field ids the spec reserves for position delete files' columns.
    static let filePathFieldId = 2_147_483_546
    static let positionFieldId = 2_147_483_545

    public init(table: Table) throws {
        self.table = table
        nameMapping = try NameMapping(table: table)
    }

    /// The rows of `task`'s data file its delete files remove.
    public func deletes(for task: FileScanTask) async throws -> RowDeletes {
        guard !task.deletes.isEmpty else { return RowDeletes() }
        var positions: [Int64] = []
        var equality: [RowDeletes.EqualityDeletes] = []
        for delete in task.deletes {
            switch delete.file.content {
            case .positionDeletes:
                positions += try await positionDeletes(delete.file)[task.dataFile.filePath] ?? []
            case .equalityDeletes:
                equality.append(try await equalityDeletes(delete.file))
            case .data:
                continue
            }
        }
        return RowDeletes(positions: positions, equality: equality)
    }

    private func cached<T>(_ body: () -> T?) -> T? {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    private func positionDeletes(_ file: DataFile) async throws -> [String: [Int64]] {
        if let hit = cached({ positionFiles[file.filePath] }) { return hit }
        let reader = try await table.openParquet(file.filePath, what: "position delete file")
        guard let pathColumn = reader.columnIndex(.fieldId(Int32(Self.filePathFieldId))) ?? reader.columnIndex(.name("file_path")),
              let posColumn = reader.columnIndex(.fieldId(Int32(Self.positionFieldId))) ?? reader.columnIndex(.name("pos")) else {
            throw IcebergError.corruptFile(location: file.filePath, message: "position delete file of table \(table.identifier) has no file_path and pos columns")
        }
        var out: [String: [Int64]] = [:]
        do {
            for g in 0..<reader.rowGroupCount {
                let paths = try reader.readColumn(rowGroup: g, column: pathColumn)
                let pos = try reader.readColumn(rowGroup: g, column: posColumn)
                guard case .byteArray(let p) = paths.values, case .int64(let o) = pos.values,
                      paths.validity == nil, pos.validity == nil, p.count == o.count else {
                    throw IcebergError.corruptFile(location: file.filePath, message: "position delete file of table \(table.identifier): file_path and pos must be non-null string and long columns of equal length (row group \(g))")
                }
                var lastPath = "", lastBytes: ArraySlice<UInt8> = []
                for i in 0..<p.count {
                    let bytes = p[i]
                    if bytes != lastBytes { lastBytes = bytes; lastPath = String(decoding: bytes, as: UTF8.self) }
                    out[lastPath, default: []].append(o[i])
                }
            }
        } catch let e as IcebergError {
            throw e
        } catch {
            throw IcebergError.corruptFile(location: file.filePath, message: "position delete file of table \(table.identifier): \(error)")
        }
        lock.lock(); positionFiles[file.filePath] = out; lock.unlock()
        return out
    }

    private func equalityDeletes(_ file: DataFile) async throws -> RowDeletes.EqualityDeletes {
        if let hit = cached({ equalityFiles[file.filePath] }) { return hit }
        guard let ids = file.equalityIds, !ids.isEmpty else {
            throw IcebergError.corruptFile(location: file.filePath, message: "equality delete file of table \(table.identifier) lists no equality_ids")
        }
        let fields: [NestedField] = try ids.map { id in
            guard let field = table.metadata.field(id: id, preferring: table.metadata.currentSchema) else {
                throw IcebergError.corruptFile(location: file.filePath, message: "equality delete file of table \(table.identifier) names field id \(id), which no schema of the table has")
            }
            guard field.type.isPrimitive else {
                throw IcebergError.invalidArgument("equality delete file \(file.filePath) of table \(table.identifier) compares field \(field.name) of type \(field.type): only primitive fields are supported")
            }
            return field
        }
        let reader = try await table.openParquet(file.filePath, what: "equality delete file")
        let columnIds = ParquetFieldIds(schema: reader.schema, nameMapping: nameMapping)
        var keys = Set<[IcebergValue?]>()
        do {
            let columns: [(Int, ParquetValueConversion)] = try fields.map { field in
                guard let index = columnIds.column(forFieldId: field.id),
                      let conversion = ParquetValueConversion(column: reader.schema.columns[index], type: field.type) else {
                    throw IcebergError.corruptFile(location: file.filePath, message: "equality delete file of table \(table.identifier) has no readable column for field \(field.name) (id \(field.id))")
                }
                return (index, conversion)
            }
            for g in 0..<reader.rowGroupCount {
                var values: [[IcebergValue?]] = []
                for ((index, conversion), field) in zip(columns, fields) {
                    var assembler = try ColumnAssembler(type: field.type)
                    try assembler.append(try reader.readColumn(rowGroup: g, column: index), conversion: conversion)
                    values.append(IcebergValue.rows(of: assembler.finish(), type: field.type))
                }
                let rows = values.first?.count ?? 0
                for row in 0..<rows { keys.insert(values.map { $0[row] }) }
            }
        } catch let e as IcebergError {
            throw e
        } catch {
            throw IcebergError.corruptFile(location: file.filePath, message: "equality delete file of table \(table.identifier): \(error)")
        }
        let result = RowDeletes.EqualityDeletes(fieldIds: ids, keys: keys)
        lock.lock(); equalityFiles[file.filePath] = result; lock.unlock()
        return result
    }
}

extension Table {
    /// Opens a Parquet file of this table: local files are read in place, remote ones fetched whole
    /// (data and delete files are bounded by the writers' target size).
    public func openParquet(_ location: String, what: String = "data file") async throws -> ParquetReader {
        do {
            if io is LocalFileIO || !S3Location.isS3(location), let path = try? LocalFileIO.path(of: location) {
                return try ParquetReader(input: try ParquetFileInput(path: path))
            }
            return try ParquetReader(input: ParquetMemoryInput(try await io.read(location), name: location))
        } catch let e as IcebergError {
            throw e
        } catch {
            throw IcebergError.corruptFile(location: location, message: "\(what) of table \(identifier) cannot be read: \(error)")
        }
    }
}

extension ColumnData {
    /// The rows whose `deleted` entry is false.
    public func removing(_ deleted: [Bool]) -> ColumnData {
        precondition(deleted.count == rowCount, "one entry per row")
        var keepDense: [Bool] = []
        var newValidity: [Bool]?
        if let validity {
            keepDense.reserveCapacity(values.count)
            newValidity = []
            for (row, valid) in validity.enumerated() {
                if valid { keepDense.append(!deleted[row]) }
                if !deleted[row] { newValidity!.append(valid) }
            }
        } else {
            keepDense = deleted.map { !$0 }
        }
        func keep<T>(_ v: [T]) -> [T] {
            var out: [T] = []
            out.reserveCapacity(v.count)
            for (i, x) in v.enumerated() where keepDense[i] { out.append(x) }
            return out
        }
        let kept: ColumnValues
        switch values {
        case .boolean(let v): kept = .boolean(keep(v))
        case .int32(let v): kept = .int32(keep(v))
        case .int64(let v): kept = .int64(keep(v))
        case .float(let v): kept = .float(keep(v))
        case .double(let v): kept = .double(keep(v))
        case .byteArray(let v):
            var out = ByteArrayValues()
            for i in 0..<v.count where keepDense[i] { out.append(contentsOf: v[i]) }
            kept = .byteArray(out)
        case .fixedLenByteArray(let v):
            var bytes: [UInt8] = []
            for i in 0..<v.count where keepDense[i] { bytes.append(contentsOf: v[i]) }
            kept = .fixedLenByteArray(FixedLenByteArrayValues(width: v.width, bytes: bytes))
        }
        return ColumnData(kept, validity: newValidity.flatMap { $0.contains(false) ? $0 : nil })
    }
}
