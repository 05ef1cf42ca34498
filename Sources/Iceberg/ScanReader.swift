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
        do {
            let groups = try reader.rowGroups(matching: predicates)
            // Each kept row group's deleted rows (nil: none), by file position.
            var removed: [[Bool]?] = Array(repeating: nil, count: groups.count)
            if !deletes.isEmpty {
                var firstRow: [Int64] = [0]
                for group in reader.metadata.rowGroups { firstRow.append(firstRow.last! + group.numRows) }
                for (k, g) in groups.enumerated() {
                    var columns: [Int: (ColumnData, IcebergType)] = [:]
                    for source in equalitySources {
                        var assembler = try ColumnAssembler(type: source.field.type)
                        try assembler.append(try reader.readColumn(rowGroup: g, column: source.index), conversion: source.conversion)
                        columns[source.field.id] = (assembler.finish(), source.field.type)
                    }
                    removed[k] = try deletes.deleted(firstRow: firstRow[g], rowCount: Int(reader.metadata.rowGroups[g].numRows), columns: columns)
                }
            }
            let rows = zip(groups, removed).reduce(0) { total, pair in
                total + Int(reader.metadata.rowGroups[pair.0].numRows) - (pair.1?.lazy.filter { $0 }.count ?? 0)
            }
            var out: [ColumnData] = []
            for (i, field) in fields.enumerated() {
                var assembler = try ColumnAssembler(type: field.type)
                guard let (index, conversion) = sources[i] else {
                    try assembler.appendConstant(constants[i], rows: rows)
                    out.append(assembler.finish())
                    continue
                }
                if groups.count > 1 { assembler.reserve(rows: rows) }
                for (k, g) in groups.enumerated() {
                    var piece = try reader.readColumn(rowGroup: g, column: index)
                    if let mask = removed[k] { piece = piece.removing(mask) }
                    do {
                        try assembler.append(piece, conversion: conversion)
                    } catch let e as ColumnAssembler.Mismatch {
                        throw IcebergError.corruptFile(location: location, message: """
                            row group \(g) column \(reader.schema.columns[index].name) of a data file of table \
                            \(table.identifier) (field \(field.name), \(field.type)): \(e.description)
                            """)
                    }
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

    /// One piece of a Parquet column in the representation `read` gives `type`, for readers that walk
    /// row groups themselves (k2-verify); an error when the column's values cannot be that type.
    public static func convert(_ piece: ColumnData, from column: ParquetColumn, to type: IcebergType) throws -> ColumnData {
        guard let conversion = ParquetValueConversion(column: column, type: type) else {
            throw IcebergError.invalidArgument("column \(column.name) (\(describe(column))) cannot be read as \(type)")
        }
        if conversion == .same { return piece }
        var assembler = try ColumnAssembler(type: type)
        assembler.reserve(rows: piece.rowCount)
        do {
            try assembler.append(piece, conversion: conversion)
        } catch let e as ColumnAssembler.Mismatch {
            throw IcebergError.invalidArgument("column \(column.name) (\(describe(column))) as \(type): \(e.description)")
        }
        return assembler.finish()
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
