import Iceberg

/// Which K2 job's Bronze table a replay writes: the Spark Structured Streaming one or the Flink SQL one
/// (docs/k2-platform.md §3). Both have the same seven columns; they differ in nullability, timestamp types,
/// partition spec and table properties.
///
/// Flink timestamps: the Flink job's columns are `TIMESTAMP(3)`. Iceberg has no millisecond timestamp
/// type; Flink's Iceberg sink maps every `TIMESTAMP(p)` to Iceberg `timestamp` (without zone, µs) and the
/// values keep only the millisecond precision they had. So a Flink-style table has type `timestamp` and
/// every value is a whole number of milliseconds (µs value divisible by 1000), UTC wall-clock.
public enum BronzeTableStyle: String, Sendable, CaseIterable {
    case spark, flink

    /// Iceberg's default `write.target-file-size-bytes` (512 MiB), used when a table does not set it.
    public static let defaultTargetFileSize: Int64 = 536_870_912

    /// The table's schema, ids 1…7 as both jobs created them.
    public var schema: Schema {
        let required = self == .flink
        let time: IcebergType = self == .flink ? .timestamp : .timestamptz
        return Schema(fields: [
            NestedField(id: 1, name: "raw_bytes", type: .binary, required: required),
            NestedField(id: 2, name: "topic", type: .string, required: required),
            NestedField(id: 3, name: "partition", type: .int, required: required),
            NestedField(id: 4, name: "offset", type: .long, required: required),
            NestedField(id: 5, name: "kafka_timestamp", type: time, required: required),
            NestedField(id: 6, name: "ingestion_timestamp", type: time, required: required),
            NestedField(id: 7, name: "ingestion_date", type: .date, required: required),
        ])
    }

    /// Spark: `day(ingestion_date)` named `ingestion_date_day`; Flink: identity on `ingestion_date`.
    public var partitionSpec: PartitionSpec {
        switch self {
        case .spark:
            return PartitionSpec(fields: [PartitionField(sourceId: 7, fieldId: 1000, name: "ingestion_date_day", transform: .day)])
        case .flink:
            return PartitionSpec(fields: [PartitionField(sourceId: 7, fieldId: 1000, name: "ingestion_date", transform: .identity)])
        }
    }

    /// The properties the job's table was created with. The Flink job does not set a target file size
    /// (Iceberg's 512 MiB default applies).
    public func properties(exchange: BronzeExchange) -> [String: String] {
        switch self {
        case .spark:
            return ["write.format.default": "parquet",
                    "write.parquet.compression-codec": "zstd",
                    "write.target-file-size-bytes": exchange == .kraken ? "67108864" : "134217728"]
        case .flink:
            return ["write.parquet.compression-codec": "snappy",
                    "write.metadata.compression-codec": "gzip",
                    "write.metadata.previous-versions-max": "5"]
        }
    }

    /// K2's table name for an exchange: `bronze_binance_trades` / `bronze_binance_trades_flink`.
    public func tableName(exchange: BronzeExchange) -> String {
        "bronze_\(exchange.rawValue)_trades" + (self == .flink ? "_flink" : "")
    }

    /// Whether the timestamps are kept to the millisecond (Flink's `TIMESTAMP(3)`).
    public var millisecondTimestamps: Bool { self == .flink }

    /// Checks an existing table's current schema against this style and returns the table's field ids of
    /// the Bronze columns (files resolve by id however the table was created). A missing column, a
    /// different type or nullability, or a column that is not a Bronze column is refused, naming it.
    public func checkSchema(of table: Table) throws -> BronzeColumnIds {
        let actual = table.metadata.currentSchema
        var ids: [String: Int] = [:]
        for want in schema.fields {
            guard let have = actual.field(named: want.name) else {
                throw BronzeTableError.schemaMismatch(table: table.identifier.description, column: want.name,
                    detail: "the table has no column \"\(want.name)\"; a \(rawValue)-style Bronze table needs \(describe(want))")
            }
            if have.type != want.type || have.required != want.required {
                throw BronzeTableError.schemaMismatch(table: table.identifier.description, column: want.name,
                    detail: "column \"\(want.name)\" is \(describe(have)), a \(rawValue)-style Bronze table has \(describe(want))")
            }
            ids[want.name] = have.id
        }
        let known = Set(schema.fields.map(\.name))
        if let extra = actual.fields.first(where: { !known.contains($0.name) }) {
            throw BronzeTableError.schemaMismatch(table: table.identifier.description, column: extra.name,
                detail: "\"\(extra.name)\" is not a Bronze column (the Bronze tables have exactly "
                    + schema.fields.map(\.name).joined(separator: ", ") + ")")
        }
        return BronzeColumnIds(ids)
    }

    private func describe(_ field: NestedField) -> String {
        "\(field.required ? "required" : "optional") \(field.type)"
    }
}

/// The field ids of the seven Bronze columns in a particular table.
public struct BronzeColumnIds: Sendable, Equatable {
    public var rawBytes, topic, partition, offset, kafkaTimestamp, ingestionTimestamp, ingestionDate: Int

    public init(_ ids: [String: Int]) {
        rawBytes = ids["raw_bytes"] ?? 1
        topic = ids["topic"] ?? 2
        partition = ids["partition"] ?? 3
        offset = ids["offset"] ?? 4
        kafkaTimestamp = ids["kafka_timestamp"] ?? 5
        ingestionTimestamp = ids["ingestion_timestamp"] ?? 6
        ingestionDate = ids["ingestion_date"] ?? 7
    }

    public static let standard = BronzeColumnIds([:])
}

public enum BronzeTableError: Error, CustomStringConvertible, Sendable {
    case schemaMismatch(table: String, column: String, detail: String)
    case offsetRequired(table: String, detail: String)
    case unsupported(String)

    public var description: String {
        switch self {
        case .schemaMismatch(let table, let column, let detail):
            return "table \(table) does not match the Bronze schema at column \(column): \(detail)"
        case .offsetRequired(let table, let detail):
            return "table \(table) requires column offset: \(detail)"
        case .unsupported(let text):
            return text
        }
    }
}
