import Iceberg

/// The columns of the Bronze schema a check reads, resolved by name once in the snapshot's schema and
/// read by field id from then on.
struct BronzeColumns {
    var topic: NestedField
    var partition: NestedField
    var offset: NestedField
    var kafkaTimestamp: NestedField
    var ingestionDate: NestedField?
    var rawBytes: NestedField?

    init(schema: Schema, table: TableIdentifier, payload: Bool) throws {
        func field(_ name: String) throws -> NestedField {
            guard let field = schema.field(named: name) else {
                throw ParityCheckError("table \(table) has no column \(name) (not a Bronze table?)")
            }
            return field
        }
        topic = try field("topic")
        partition = try field("partition")
        offset = try field("offset")
        kafkaTimestamp = try field("kafka_timestamp")
        ingestionDate = schema.field(named: "ingestion_date")
        rawBytes = payload ? try field("raw_bytes") : nil
    }

    /// The fields in the order `BronzeRowRouter` expects the batch's columns.
    var projection: [NestedField] {
        [topic, partition, offset, kafkaTimestamp] + [ingestionDate, rawBytes].compactMap { $0 }
    }
}
