import Parquet

/// Reads the rows of planned data files through the Parquet reader, with column projection.
///
/// Columns are matched by field id (table spec, "Column Projection"): the id a file column records, else
/// for a column without one the id the table's `schema.name-mapping.default` gives its name (files of
/// migrated tables or registered with `add_files`). A field the file does not hold reads as its identity
/// partition value when the file's partition tuple has one, else as nulls; a required field the file
/// does not hold is an error.
///
/// Values come back in one representation per Iceberg type, whatever the file stores: `boolean` as
/// `.boolean`; `int` and `date` as `.int32`; `long`, `time` and timestamps as `.int64` in microseconds
/// (nanoseconds for `timestamp_ns`); `float` as `.float`; `double` as `.double`; `string` and `binary`
/// as `.byteArray`; `uuid` and `fixed` as `.fixedLenByteArray`; `decimal` as `.fixedLenByteArray` of
/// `IcebergType.decimalBytes(precision:)` bytes. So TIMESTAMP(MILLIS/NANOS) and INT96 timestamps,
/// INT32/INT64 decimals and columns promoted int → long or float → double are converted; a column
/// whose stored type cannot be read as the field's type is an error naming the file and column.
///
/// Row groups are skipped by their statistics for the given ranges; rows inside a kept row group are
/// not filtered. Rows the task's delete files remove (position and equality deletes) are left out, so a
/// table reads as Spark and pyiceberg read it.
public struct ScanReader: Sendable {
    public let table: Table
    private let nameMapping: NameMapping?
    private let deleteLoader: RowDeleteLoader

    public init(table: Table) throws {
        self.table = table
        nameMapping = try NameMapping(table: table)
        deleteLoader = try RowDeleteLoader(table: table)
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
        let file = try await project(task, fields: fields, filters: filters, schema: schema)
        let location = file.location, reader = file.reader
        do {
            let groups = try reader.rowGroups(matching: file.predicates)
            // Each kept row group's deleted rows (nil: none), by file position.
            var removed: [[Bool]?] = Array(repeating: nil, count: groups.count)
            for (k, g) in groups.enumerated() { removed[k] = try file.deletedRows(rowGroup: g) }
            let rows = zip(groups, removed).reduce(0) { total, pair in
                total + Int(reader.metadata.rowGroups[pair.0].numRows) - (pair.1?.lazy.filter { $0 }.count ?? 0)
            }
            var out: [ColumnData] = []
            for (i, field) in fields.enumerated() {
                var assembler = try ColumnAssembler(type: field.type)
                guard let (index, conversion) = file.sources[i] else {
                    try assembler.appendConstant(file.constants[i], rows: rows)
                    out.append(assembler.finish())
                    continue
                }
                if groups.count > 1 { assembler.reserve(rows: rows) }
                for (k, g) in groups.enumerated() {
                    var piece = try reader.readColumn(rowGroup: g, column: index)
                    if let mask = removed[k] { piece = piece.removing(mask) }
                    try file.append(piece, to: &assembler, conversion: conversion, field: field, column: index, rowGroup: g)
                }
                out.append(assembler.finish())
            }
            return out
        } catch let e as IcebergError {
            throw e
        } catch {
            throw IcebergError.corruptFile(location: location, message: "data file of table \(table.identifier): \(error)")
        }
    }

    /// Streams `fields` of one data file row group by row group (memory stays that of one row group), in
    /// file order, rows that delete files remove left out. `filters` skip row groups by their statistics
    /// (rows inside a kept row group are not filtered); their columns are named in `schema`, by default the
    /// current one. A field whose id is in `uniform` comes back as `.constant` for a row group whose
    /// statistics say it holds one value and no nulls (string and binary fields only: their statistics are
    /// the values themselves). `body` may throw to stop the scan (a cancelled caller).
    public func readRowGroups(_ task: FileScanTask, fields: [NestedField], filters: [ColumnRange] = [],
                              uniform: Set<Int> = [], schema: Schema? = nil,
                              body: (ScanBatch) throws -> Void) async throws {
        let file = try await project(task, fields: fields, filters: filters, schema: schema ?? table.metadata.currentSchema)
        let location = file.location, reader = file.reader
        let groups: [Int]
        do { groups = try reader.rowGroups(matching: file.predicates) } catch {
            throw IcebergError.corruptFile(location: location, message: "data file of table \(table.identifier): \(error)")
        }
        for g in groups {
            var columns: [ScanColumn] = []
            var rowCount = Int(reader.metadata.rowGroups[g].numRows)
            var deletedRows = 0
            var removedMask: [Bool]?
            do {
                let removed = try file.deletedRows(rowGroup: g)
                removedMask = removed
                if let removed {
                    deletedRows = removed.lazy.filter { $0 }.count
                    rowCount -= deletedRows
                }
                for (i, field) in fields.enumerated() {
                    guard let (index, conversion) = file.sources[i] else {
                        columns.append(.constant(file.constants[i]))
                        continue
                    }
                    if uniform.contains(field.id), let value = Self.uniformValue(reader, rowGroup: g, column: index, type: field.type) {
                        columns.append(.constant(value))
                        continue
                    }
                    var piece = try reader.readColumn(rowGroup: g, column: index)
                    if let removed { piece = piece.removing(removed) }
                    if conversion != .same {
                        var assembler = try ColumnAssembler(type: field.type)
                        assembler.reserve(rows: piece.rowCount)
                        try file.append(piece, to: &assembler, conversion: conversion, field: field, column: index, rowGroup: g)
                        piece = assembler.finish()
                    }
                    columns.append(.values(piece))
                }
            } catch let e as IcebergError {
                throw e
            } catch {
                throw IcebergError.corruptFile(location: location, message: "row group \(g) of a data file of table \(table.identifier): \(error)")
            }
            try body(ScanBatch(location: location, rowGroup: g, rowCount: rowCount, deletedRows: deletedRows, columns: columns,
                               firstRowPosition: file.firstRows[g], removedRows: removedMask))
        }
    }

    /// The one value a string or binary column chunk holds by its statistics (and no nulls), else nil.
    private static func uniformValue(_ reader: ParquetReader, rowGroup: Int, column: Int, type: IcebergType) -> IcebergValue? {
        guard let stats = reader.columnMetaData(rowGroup: rowGroup, column: column).statistics,
              let low = stats.minValue, low == stats.maxValue, stats.nullCount == 0 else { return nil }
        switch type {
        case .string: return .string(String(decoding: low, as: UTF8.self))
        case .binary: return .binary(low)
        default: return nil
        }
    }

    /// One data file opened for a projection: which file column holds each field and how its values
    /// convert, the constants of fields it lacks, row group predicates, and the rows its delete files remove.
    private struct FileProjection {
        let table: Table
        let location: String
        let reader: ParquetReader
        let deletes: RowDeletes
        let sources: [(index: Int, conversion: ParquetValueConversion)?]
        let constants: [IcebergValue?]
        let predicates: [ParquetRangePredicate]
        let equalitySources: [(field: NestedField, index: Int, conversion: ParquetValueConversion)]
        let firstRows: [Int64]

        /// Rows of a row group that delete files remove (by position in the file or by field values); nil: none.
        func deletedRows(rowGroup g: Int) throws -> [Bool]? {
            guard !deletes.isEmpty else { return nil }
            var columns: [Int: (ColumnData, IcebergType)] = [:]
            for source in equalitySources {
                var assembler = try ColumnAssembler(type: source.field.type)
                try append(try reader.readColumn(rowGroup: g, column: source.index), to: &assembler,
                           conversion: source.conversion, field: source.field, column: source.index, rowGroup: g)
                columns[source.field.id] = (assembler.finish(), source.field.type)
            }
            return try deletes.deleted(firstRow: firstRows[g], rowCount: Int(reader.metadata.rowGroups[g].numRows), columns: columns)
        }

        func append(_ piece: ColumnData, to assembler: inout ColumnAssembler, conversion: ParquetValueConversion,
                    field: NestedField, column index: Int, rowGroup g: Int) throws {
            do {
                try assembler.append(piece, conversion: conversion)
            } catch let e as ColumnAssembler.Mismatch {
                throw IcebergError.corruptFile(location: location, message: """
                    row group \(g) column \(reader.schema.columns[index].name) of a data file of table \
                    \(table.identifier) (field \(field.name), \(field.type)): \(e.description)
                    """)
            }
        }
    }

    /// Opens a data file and resolves `fields` in it by field id (or the name mapping), with the delete
    /// files of its task; `filters` become row group predicates on the file's own columns and units.
    private func project(_ task: FileScanTask, fields: [NestedField], filters: [ColumnRange], schema: Schema) async throws -> FileProjection {
        let location = task.dataFile.filePath
        let reader = try await table.openParquet(location)
        let deletes = try await deleteLoader.deletes(for: task)
        let ids = ParquetFieldIds(schema: reader.schema, nameMapping: nameMapping)

        /// The file column holding a field and how its values convert, or nil when the file lacks the field.
        func source(of field: NestedField) throws -> (index: Int, conversion: ParquetValueConversion)? {
            guard let index = ids.column(forFieldId: field.id) else { return nil }
            let column = reader.schema.columns[index]
            guard let conversion = ParquetValueConversion(column: column, type: field.type) else {
                throw IcebergError.corruptFile(location: location, message: """
                    column \(column.name) (\(Self.describe(column))) of a data file of table \(table.identifier) \
                    cannot be read as field \(field.name) (id \(field.id)) of type \(field.type)
                    """)
            }
            return (index, conversion)
        }

        var predicates: [ParquetRangePredicate] = []
        for filter in filters {
            guard let field = schema.field(named: filter.column), let (index, conversion) = try source(of: field) else { continue }
            switch field.type {
            case .decimal, .boolean: continue
            default: break
            }
            // Predicates name columns; a name the file uses twice cannot pick this one.
            let name = reader.schema.columns[index].name
            guard reader.schema.index(ofName: name) == index else { continue }
            let lower = filter.lower.flatMap { conversion.fileBound($0) }
            let upper = filter.upper.flatMap { conversion.fileBound($0) }
            if lower == nil && upper == nil { continue }
            predicates.append(ParquetRangePredicate(column: .name(name), lower: lower, upper: upper))
        }
        let sources = try fields.map(source(of:))
        // A field the file lacks reads as its identity partition value when the partition tuple has one
        // (the spec's first projection rule: files of migrated Hive tables hold no partition columns).
        let spec = table.metadata.spec(id: task.dataFile.specId)
        var constants: [IcebergValue?] = []
        for (field, source) in zip(fields, sources) {
            var constant: IcebergValue?
            var found = false
            if source == nil, let spec,
               let p = spec.fields.firstIndex(where: { $0.sourceId == field.id && $0.transform == .identity }),
               p < task.dataFile.partition.count {
                constant = task.dataFile.partition[p]
                found = true
            }
            if source == nil, field.required, constant == nil {
                let hint = !found && nameMapping == nil && reader.schema.columns.contains { $0.fieldId == nil }
                    ? " (its columns carry no field ids and the table has no schema.name-mapping.default)" : ""
                throw IcebergError.corruptFile(location: location, message: """
                    data file of table \(table.identifier) has no column for required field \(field.name) (id \(field.id))\(hint)
                    """)
            }
            constants.append(constant)
        }
        // Equality deletes compare fields the caller may not have asked for.
        var equalitySources: [(field: NestedField, index: Int, conversion: ParquetValueConversion)] = []
        for id in deletes.equalityFieldIds.sorted() {
            guard let field = table.metadata.field(id: id, preferring: schema),
                  let (index, conversion) = try source(of: field) else {
                throw IcebergError.corruptFile(location: location, message: """
                    data file of table \(table.identifier) has no column for field id \(id), which an equality delete file compares
                    """)
            }
            equalitySources.append((field, index, conversion))
        }
        var firstRows: [Int64] = [0]
        for group in reader.metadata.rowGroups { firstRows.append(firstRows.last! + group.numRows) }
        return FileProjection(table: table, location: location, reader: reader, deletes: deletes, sources: sources,
                              constants: constants, predicates: predicates, equalitySources: equalitySources, firstRows: firstRows)
    }

    /// A column's stored type as people know it: `INT64 TIMESTAMP(millis, adjusted to UTC: true)`, `INT96`.
    static func describe(_ column: ParquetColumn) -> String {
        let physical: String
        switch column.physicalType {
        case .boolean: physical = "BOOLEAN"
        case .int32: physical = "INT32"
        case .int64: physical = "INT64"
        case .int96: physical = "INT96"
        case .float: physical = "FLOAT"
        case .double: physical = "DOUBLE"
        case .byteArray: physical = "BYTE_ARRAY"
        case .fixedLenByteArray: physical = "FIXED_LEN_BYTE_ARRAY(\(column.typeLength ?? 0))"
        }
        guard let logical = column.logicalType else { return physical }
        switch logical {
        case .string: return physical + " STRING"
        case .date: return physical + " DATE"
        case .timestamp(let utc, let unit): return physical + " TIMESTAMP(\(unit), adjusted to UTC: \(utc))"
        case .time(let utc, let unit): return physical + " TIME(\(unit), adjusted to UTC: \(utc))"
        case .decimal(let p, let s): return physical + " DECIMAL(\(p), \(s))"
        case .integer(let bits, let signed): return physical + " INT(\(bits), \(signed ? "signed" : "unsigned"))"
        case .json: return physical + " JSON"
        case .uuid: return physical + " UUID"
        case .other(let id): return physical + " (logical type union member \(id))"
        }
    }
}
