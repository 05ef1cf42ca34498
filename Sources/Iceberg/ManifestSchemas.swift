import Avro

/// The Avro schemas of Iceberg v2 manifests and manifest lists, with the field ids of the table spec
/// ("Manifests", "Manifest Lists").
enum ManifestSchemas {
    private static func intMap(_ name: String, id: Int, keyId: Int, valueId: Int, value: AvroSchema, doc: String) -> AvroField {
        AvroField(name, .optional(.array(items: .record(AvroRecordSchema(name: "k\(keyId)_v\(valueId)", fields: [
            AvroField("key", .int(), fieldId: keyId),
            AvroField("value", value, fieldId: valueId),
        ])), AvroAnnotations(logicalType: "map"))), fieldId: id, doc: doc, defaultValue: .null)
    }

    static func dataFile(partition: AvroSchema) -> AvroSchema {
        .record(AvroRecordSchema(name: "r2", fields: [
            AvroField("content", .int(), fieldId: 134, doc: "Contents of the file: 0=data, 1=position deletes, 2=equality deletes"),
            AvroField("file_path", .string(), fieldId: 100, doc: "Location URI with FS scheme"),
            AvroField("file_format", .string(), fieldId: 101, doc: "File format name: avro, orc, or parquet"),
            AvroField("partition", partition, fieldId: 102, doc: "Partition data tuple, schema based on the partition spec"),
            AvroField("record_count", .long(), fieldId: 103, doc: "Number of records in the file"),
            AvroField("file_size_in_bytes", .long(), fieldId: 104, doc: "Total file size in bytes"),
            intMap("column_sizes", id: 108, keyId: 117, valueId: 118, value: .long(), doc: "Map of column id to total size on disk"),
            intMap("value_counts", id: 109, keyId: 119, valueId: 120, value: .long(), doc: "Map of column id to total count, including null and NaN"),
            intMap("null_value_counts", id: 110, keyId: 121, valueId: 122, value: .long(), doc: "Map of column id to null value count"),
            intMap("nan_value_counts", id: 137, keyId: 138, valueId: 139, value: .long(), doc: "Map of column id to number of NaN values in the column"),
            intMap("lower_bounds", id: 125, keyId: 126, valueId: 127, value: .bytes(), doc: "Map of column id to lower bound"),
            intMap("upper_bounds", id: 128, keyId: 129, valueId: 130, value: .bytes(), doc: "Map of column id to upper bound"),
            AvroField("key_metadata", .optional(.bytes()), fieldId: 131, doc: "Encryption key metadata blob", defaultValue: .null),
            AvroField("split_offsets", .optional(.array(items: .long(), AvroAnnotations(attributes: [("element-id", .int(133))]))),
                      fieldId: 132, doc: "Splittable offsets", defaultValue: .null),
            AvroField("equality_ids", .optional(.array(items: .int(), AvroAnnotations(attributes: [("element-id", .int(136))]))),
                      fieldId: 135, doc: "Equality comparison field IDs", defaultValue: .null),
            AvroField("sort_order_id", .optional(.int()), fieldId: 140, doc: "Sort order ID", defaultValue: .null),
        ]))
    }

    static func manifestEntry(partition: AvroSchema) -> AvroSchema {
        .record(AvroRecordSchema(name: "manifest_entry", fields: [
            AvroField("status", .int(), fieldId: 0),
            AvroField("snapshot_id", .optional(.long()), fieldId: 1, defaultValue: .null),
            AvroField("sequence_number", .optional(.long()), fieldId: 3, defaultValue: .null),
            AvroField("file_sequence_number", .optional(.long()), fieldId: 4, defaultValue: .null),
            AvroField("data_file", dataFile(partition: partition), fieldId: 2),
        ]))
    }

    static let fieldSummary: AvroSchema = .record(AvroRecordSchema(name: "r508", fields: [
        AvroField("contains_null", .boolean, fieldId: 509, doc: "True if any file has a null partition value"),
        AvroField("contains_nan", .optional(.boolean), fieldId: 518, doc: "True if any file has a nan partition value", defaultValue: .null),
        AvroField("lower_bound", .optional(.bytes()), fieldId: 510, doc: "Partition lower bound for all files", defaultValue: .null),
        AvroField("upper_bound", .optional(.bytes()), fieldId: 511, doc: "Partition upper bound for all files", defaultValue: .null),
    ]))

    static let manifestFile: AvroSchema = .record(AvroRecordSchema(name: "manifest_file", fields: [
        AvroField("manifest_path", .string(), fieldId: 500, doc: "Location URI with FS scheme"),
        AvroField("manifest_length", .long(), fieldId: 501, doc: "Total file size in bytes"),
        AvroField("partition_spec_id", .int(), fieldId: 502, doc: "Spec ID used to write"),
        AvroField("content", .int(), fieldId: 517, doc: "Contents of the manifest: 0=data, 1=deletes"),
        AvroField("sequence_number", .long(), fieldId: 515, doc: "Sequence number when the manifest was added"),
        AvroField("min_sequence_number", .long(), fieldId: 516, doc: "Lowest sequence number in the manifest"),
        AvroField("added_snapshot_id", .long(), fieldId: 503, doc: "Snapshot ID that added the manifest"),
        AvroField("added_files_count", .int(), fieldId: 504, doc: "Added entry count"),
        AvroField("existing_files_count", .int(), fieldId: 505, doc: "Existing entry count"),
        AvroField("deleted_files_count", .int(), fieldId: 506, doc: "Deleted entry count"),
        AvroField("added_rows_count", .long(), fieldId: 512, doc: "Added rows count"),
        AvroField("existing_rows_count", .long(), fieldId: 513, doc: "Existing rows count"),
        AvroField("deleted_rows_count", .long(), fieldId: 514, doc: "Deleted rows count"),
        AvroField("partitions", .optional(.array(items: fieldSummary, AvroAnnotations(attributes: [("element-id", .int(508))]))),
                  fieldId: 507, doc: "Summary for each partition", defaultValue: .null),
        AvroField("key_metadata", .optional(.bytes()), fieldId: 519, doc: "Encryption key metadata blob", defaultValue: .null),
    ]))
}
