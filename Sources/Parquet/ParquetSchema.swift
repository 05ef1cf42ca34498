/// Parquet physical types (parquet.thrift `Type`).
public enum ParquetPhysicalType: Int32, Sendable, Hashable {
    case boolean = 0
    case int32 = 1
    case int64 = 2
    case int96 = 3
    case float = 4
    case double = 5
    case byteArray = 6
    case fixedLenByteArray = 7
}

/// Column repetition (parquet.thrift `FieldRepetitionType`). Only flat schemas are supported, so
/// `repeated` is accepted in footers but not written or read as lists.
public enum ParquetRepetition: Int32, Sendable, Hashable {
    case required = 0
    case optional = 1
    case repeated = 2
}

public enum ParquetTimeUnit: Sendable, Hashable {
    case millis, micros, nanos
}

/// The logical types this library writes and recognises (parquet.thrift `LogicalType` union).
/// Other union members found in a footer are kept as `.other(fieldId)` so readers can still see the column.
public enum ParquetLogicalType: Sendable, Hashable {
    case string
    case date
    case timestamp(isAdjustedToUTC: Bool, unit: ParquetTimeUnit)
    case time(isAdjustedToUTC: Bool, unit: ParquetTimeUnit)
    case decimal(precision: Int32, scale: Int32)
    case integer(bitWidth: Int8, isSigned: Bool)
    case json
    case uuid
    case other(Int16)
}

/// One leaf column of a flat schema.
public struct ParquetColumn: Sendable, Hashable {
    public var name: String
    public var physicalType: ParquetPhysicalType
    public var logicalType: ParquetLogicalType?
    public var repetition: ParquetRepetition
    /// The Iceberg field id (SchemaElement.field_id); nil for files written without ids.
    public var fieldId: Int32?
    /// Byte width of FIXED_LEN_BYTE_ARRAY values.
    public var typeLength: Int32?

    public init(
        name: String, physicalType: ParquetPhysicalType, logicalType: ParquetLogicalType? = nil,
        repetition: ParquetRepetition = .optional, fieldId: Int32? = nil, typeLength: Int32? = nil
    ) {
        self.name = name
        self.physicalType = physicalType
        self.logicalType = logicalType
        self.repetition = repetition
        self.fieldId = fieldId
        self.typeLength = typeLength
    }

    var maxDefinitionLevel: Int { repetition == .required ? 0 : 1 }

    // Convenience constructors for the types the Bronze tables and Iceberg use.
    public static func boolean(_ name: String, _ repetition: ParquetRepetition = .optional, fieldId: Int32? = nil) -> ParquetColumn {
        ParquetColumn(name: name, physicalType: .boolean, repetition: repetition, fieldId: fieldId)
    }
    public static func int32(_ name: String, _ repetition: ParquetRepetition = .optional, fieldId: Int32? = nil) -> ParquetColumn {
        ParquetColumn(name: name, physicalType: .int32, repetition: repetition, fieldId: fieldId)
    }
    public static func int64(_ name: String, _ repetition: ParquetRepetition = .optional, fieldId: Int32? = nil) -> ParquetColumn {
        ParquetColumn(name: name, physicalType: .int64, repetition: repetition, fieldId: fieldId)
    }
    public static func float(_ name: String, _ repetition: ParquetRepetition = .optional, fieldId: Int32? = nil) -> ParquetColumn {
        ParquetColumn(name: name, physicalType: .float, repetition: repetition, fieldId: fieldId)
    }
    public static func double(_ name: String, _ repetition: ParquetRepetition = .optional, fieldId: Int32? = nil) -> ParquetColumn {
        ParquetColumn(name: name, physicalType: .double, repetition: repetition, fieldId: fieldId)
    }
    public static func binary(_ name: String, _ repetition: ParquetRepetition = .optional, fieldId: Int32? = nil) -> ParquetColumn {
        ParquetColumn(name: name, physicalType: .byteArray, repetition: repetition, fieldId: fieldId)
    }
    public static func string(_ name: String, _ repetition: ParquetRepetition = .optional, fieldId: Int32? = nil) -> ParquetColumn {
        ParquetColumn(name: name, physicalType: .byteArray, logicalType: .string, repetition: repetition, fieldId: fieldId)
    }
    public static func date(_ name: String, _ repetition: ParquetRepetition = .optional, fieldId: Int32? = nil) -> ParquetColumn {
        ParquetColumn(name: name, physicalType: .int32, logicalType: .date, repetition: repetition, fieldId: fieldId)
    }
    /// INT64 timestamp; `isAdjustedToUTC` true is Iceberg `timestamptz`, false is `timestamp`.
    public static func timestamp(
        _ name: String, unit: ParquetTimeUnit = .micros, isAdjustedToUTC: Bool = true,
        _ repetition: ParquetRepetition = .optional, fieldId: Int32? = nil
    ) -> ParquetColumn {
        ParquetColumn(name: name, physicalType: .int64, logicalType: .timestamp(isAdjustedToUTC: isAdjustedToUTC, unit: unit),
                      repetition: repetition, fieldId: fieldId)
    }
    /// FIXED_LEN_BYTE_ARRAY decimal (big-endian two's complement), width from the precision as Iceberg does.
    public static func decimal(
        _ name: String, precision: Int32, scale: Int32, _ repetition: ParquetRepetition = .optional, fieldId: Int32? = nil
    ) -> ParquetColumn {
        ParquetColumn(name: name, physicalType: .fixedLenByteArray, logicalType: .decimal(precision: precision, scale: scale),
                      repetition: repetition, fieldId: fieldId, typeLength: Int32(decimalByteWidth(precision: Int(precision))))
    }

    /// The smallest byte width that holds every unscaled value of a decimal of this precision.
    public static func decimalByteWidth(precision: Int) -> Int {
        var width = 1
        while true {
            // Largest positive value with `width` bytes: 2^(8*width-1) - 1; compare digits.
            let bits = Double(8 * width - 1)
            if (bits * 0.30102999566398120).rounded(.down) >= Double(precision) { return width }
            width += 1
        }
    }
}

/// A flat Parquet schema: the root group and its leaf columns, in file order.
public struct ParquetSchema: Sendable, Hashable {
    public var columns: [ParquetColumn]
    /// Name of the root group (`schema` for parquet-mr and Arrow files).
    public var rootName: String

    public init(_ columns: [ParquetColumn], rootName: String = "schema") {
        self.columns = columns
        self.rootName = rootName
    }

    public func index(ofName name: String) -> Int? { columns.firstIndex { $0.name == name } }
    public func index(ofFieldId id: Int32) -> Int? { columns.firstIndex { $0.fieldId == id } }
}
