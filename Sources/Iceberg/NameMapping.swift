import Avro

/// The table property `schema.name-mapping.default` (table spec, "Column Projection" / "Name Mapping
/// Serialization"): field ids for the columns of data files written without them (files imported or
/// registered with `add_files`). Only top-level fields are kept: the reader reads flat schemas.
///
/// The mapping goes from a file's column name to a field id. An entry may list several names (aliases
/// of the same field in different files), no names (a field only the table has), or no field id (a
/// column only the files have: it maps to nothing).
public struct NameMapping: Sendable, Equatable {
    /// File column name → field id.
    public private(set) var fieldIds: [String: Int] = [:]

    public init(fieldIds: [String: Int]) {
        self.fieldIds = fieldIds
    }

    /// Parses the JSON form: a list of `{"field-id": N, "names": [...], "fields": [...]}` objects.
    /// `table` names the table in errors.
    public init(json text: String, table: TableIdentifier) throws {
        func bad(_ why: String) -> IcebergError {
            .invalidMetadata("table \(table): schema.name-mapping.default \(why)")
        }
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(text) } catch { throw bad("is not valid JSON: \(error)") }
        guard let fields = parsed.arrayValue else { throw bad("is not a JSON array") }
        for (i, field) in fields.enumerated() {
            guard field.objectValue != nil else { throw bad("entry \(i) is not an object") }
            guard let names = field["names"]?.arrayValue else { throw bad("entry \(i) has no names list") }
            let id: Int?
            switch field["field-id"] {
            case nil, .null?: id = nil
            case let value?:
                guard let n = value.intValue else { throw bad("entry \(i) has a field-id that is not a number") }
                id = n
            }
            for name in names {
                guard let name = name.stringValue else { throw bad("entry \(i) has a name that is not a string") }
                // The spec forbids two fields with one name: a file column would map to two ids.
                guard fieldIds[name] == nil else { throw bad("maps the name \"\(name)\" twice") }
                if let id { fieldIds[name] = id }
            }
        }
    }

    /// The table's mapping, or nil when the table has none.
    public init?(table: Table) throws {
        guard let text = table.metadata.properties["schema.name-mapping.default"] else { return nil }
        try self.init(json: text, table: table.identifier)
    }

    public func fieldId(forColumn name: String) -> Int? { fieldIds[name] }
}
