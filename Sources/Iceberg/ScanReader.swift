import Avro
import Parquet

/// Reads the rows of planned data files through the Parquet reader, with column projection.
///
/// Columns are matched by field id; files written without field ids (migrated tables, `add_files`)
/// are matched through the table's `schema.name-mapping.default`, else by the column's current name.
/// A column the file does not have (added to the schema later) reads as all nulls. Row groups are
/// skipped by their statistics for the given ranges; rows inside a kept row group are not filtered.
public struct ScanReader: Sendable {
    public let table: Table
    /// Field id → the names a file may use for it (from `schema.name-mapping.default`).
    private let nameMapping: [Int: [String]]

    public init(table: Table) throws {
        self.table = table
        nameMapping = try Self.parseNameMapping(table.metadata.properties["schema.name-mapping.default"], table: table.identifier)
    }

    static func parseNameMapping(_ text: String?, table: TableIdentifier) throws -> [Int: [String]] {
        guard let text else { return [:] }
        guard let fields = try? JSONValue.parse(text).arrayValue else {
            throw IcebergError.invalidMetadata("table \(table): schema.name-mapping.default is not a JSON array")
        }
        var out: [Int: [String]] = [:]
        for f in fields {
            guard let id = f["field-id"]?.intValue else { continue }
            out[id] = (f["names"]?.arrayValue ?? []).compactMap(\.stringValue)
        }
        return out
    }

    /// Reads `columns` (by name in the table schema) of one data file, one `ColumnData` per column.
    public func read(_ task: FileScanTask, columns: [String], filters: [ColumnRange] = []) async throws -> [ColumnData] {
        let schema = table.metadata.currentSchema
        let fields: [NestedField] = try columns.map { name in
            guard let f = schema.field(named: name) else {
                throw IcebergError.invalidArgument("table \(table.identifier) has no column \(name)")
            }
            return f
        }
        let location = task.dataFile.filePath
        let reader: ParquetReader
        do {
            if let path = try? LocalFileIO.path(of: location), table.io is LocalFileIO {
                reader = try ParquetReader(input: try ParquetFileInput(path: path))
            } else {
                reader = try ParquetReader(input: ParquetMemoryInput(try await table.io.read(location), name: location))
            }
        } catch {
            throw IcebergError.corruptFile(location: location, message: "data file of table \(table.identifier) cannot be read: \(error)")
        }
        let hasIds = reader.schema.columns.contains { $0.fieldId != nil }
        func selector(for field: NestedField) -> ParquetColumnSelector? {
            if hasIds {
                let s = ParquetColumnSelector.fieldId(Int32(field.id))
                return reader.columnIndex(s) != nil ? s : nil
            }
            for name in nameMapping[field.id] ?? [field.name] where reader.columnIndex(.name(name)) != nil {
                return .name(name)
            }
            return nil
        }
        var predicates: [ParquetRangePredicate] = []
        for filter in filters {
            guard let field = schema.field(named: filter.column), let s = selector(for: field) else { continue }
            switch field.type {
            case .decimal, .boolean: continue
            default:
                predicates.append(ParquetRangePredicate(column: s, lower: filter.lower?.singleValueBytes(), upper: filter.upper?.singleValueBytes()))
            }
        }
        do {
            let groups = try reader.rowGroups(matching: predicates)
            var present: [(Int, ParquetColumnSelector)] = []
            for (i, f) in fields.enumerated() { if let s = selector(for: f) { present.append((i, s)) } }
            var out = try fields.map { try Self.emptyColumn(for: $0.type) }
            var rows = 0
            var pieces = [[ColumnData]](repeating: [], count: fields.count)
            for g in groups {
                let chunk = try reader.readRowGroup(g, columns: present.map(\.1))
                for ((i, _), data) in zip(present, chunk) { pieces[i].append(data) }
                rows += Int(reader.metadata.rowGroups[g].numRows)
            }
            for i in fields.indices {
                out[i] = pieces[i].isEmpty ? try Self.nullColumn(for: fields[i].type, rows: rows) : Self.concatenate(pieces[i])
            }
            return out
        } catch let e as IcebergError {
            throw e
        } catch {
            throw IcebergError.corruptFile(location: location, message: "data file of table \(table.identifier): \(error)")
        }
    }

    static func emptyColumn(for type: IcebergType) throws -> ColumnData {
        switch type {
        case .boolean: return ColumnData(.boolean([]))
        case .int, .date: return ColumnData(.int32([]))
        case .long, .time, .timestamp, .timestamptz, .timestampNs, .timestamptzNs: return ColumnData(.int64([]))
        case .float: return ColumnData(.float([]))
        case .double: return ColumnData(.double([]))
        case .string, .binary: return ColumnData(.byteArray(ByteArrayValues()))
        case .uuid: return ColumnData(.fixedLenByteArray(FixedLenByteArrayValues(width: 16)))
        case .fixed(let n): return ColumnData(.fixedLenByteArray(FixedLenByteArrayValues(width: n)))
        case .decimal(let p, _): return ColumnData(.fixedLenByteArray(FixedLenByteArrayValues(width: IcebergType.decimalBytes(precision: p))))
        case .structType, .list, .map: throw IcebergError.invalidArgument("nested column types cannot be read")
        }
    }

    static func nullColumn(for type: IcebergType, rows: Int) throws -> ColumnData {
        var c = try emptyColumn(for: type)
        c.validity = [Bool](repeating: false, count: rows)
        return c
    }

    /// Joins the row groups' pieces of one column.
    static func concatenate(_ pieces: [ColumnData]) -> ColumnData {
        if pieces.count == 1 { return pieces[0] }
        let anyNulls = pieces.contains { $0.validity != nil }
        var validity: [Bool]? = anyNulls ? [] : nil
        if anyNulls {
            for p in pieces { validity! += p.validity ?? [Bool](repeating: true, count: p.rowCount) }
        }
        var values = pieces[0].values
        for p in pieces.dropFirst() {
            switch (values, p.values) {
            case (.boolean(var a), .boolean(let b)): a += b; values = .boolean(a)
            case (.int32(var a), .int32(let b)): a += b; values = .int32(a)
            case (.int64(var a), .int64(let b)): a += b; values = .int64(a)
            case (.float(var a), .float(let b)): a += b; values = .float(a)
            case (.double(var a), .double(let b)): a += b; values = .double(a)
            case (.byteArray(var a), .byteArray(let b)):
                for i in 0..<b.count { a.append(contentsOf: b[i]) }
                values = .byteArray(a)
            case (.fixedLenByteArray(var a), .fixedLenByteArray(let b)):
                a.bytes += b.bytes
                values = .fixedLenByteArray(a)
            default: break
            }
        }
        return ColumnData(values, validity: validity)
    }
}
