import Parquet

/// Which column of one Parquet data file holds each Iceberg field (table spec, "Column Projection").
///
/// A column's field id is the one the file records (`SchemaElement.field_id`); a column without one takes
/// the id the table's name mapping gives its name. Without a mapping, a column without an id matches
/// nothing: names are not ids (a renamed or re-added column must not pick up an old column's values).
public struct ParquetFieldIds: Sendable {
    /// Field id → index in the file's (flat) schema.
    private let columnByFieldId: [Int: Int]

    public init(schema: ParquetSchema, nameMapping: NameMapping?) {
        var byId: [Int: Int] = [:]
        // Ids recorded in the file come first: a mapped name never displaces a column that carries the id.
        for (index, column) in schema.columns.enumerated() {
            if let id = column.fieldId, byId[Int(id)] == nil { byId[Int(id)] = index }
        }
        if let nameMapping {
            for (index, column) in schema.columns.enumerated() where column.fieldId == nil {
                if let id = nameMapping.fieldId(forColumn: column.name), byId[id] == nil { byId[id] = index }
            }
        }
        columnByFieldId = byId
    }

    /// The schema index of the column holding field `id`, or nil when the file has none.
    public func column(forFieldId id: Int) -> Int? { columnByFieldId[id] }
}
