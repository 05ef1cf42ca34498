import Avro

/// Field access on a decoded Avro record by Iceberg field id (v1 and v2 writers name some fields differently).
struct AvroRecordView {
    let schema: AvroRecordSchema
    let values: [AvroValue]

    init?(_ value: AvroValue, _ schema: AvroSchema) {
        guard case .record(let values) = value, case .record(let r) = schema.nonNull else { return nil }
        self.schema = r
        self.values = values
    }

    func value(_ id: Int, _ name: String) -> AvroValue? {
        schema.index(fieldId: id, name: name).map { values[$0] }
    }

    func record(_ id: Int, _ name: String) -> AvroRecordView? {
        guard let i = schema.index(fieldId: id, name: name) else { return nil }
        return AvroRecordView(values[i], schema.fields[i].type)
    }

    func long(_ id: Int, _ name: String) -> Int64? { value(id, name)?.int64Value }

    /// An Iceberg int→X map, stored as an array of key/value records (or an Avro map with string keys).
    func intMap(_ id: Int, _ name: String) -> [Int: AvroValue] {
        var out: [Int: AvroValue] = [:]
        switch value(id, name) {
        case .array(let items)?:
            for item in items {
                if case .record(let kv) = item, kv.count == 2, let k = kv[0].int32Value { out[Int(k)] = kv[1] }
            }
        case .map(let entries)?:
            for (k, v) in entries { if let key = Int(k) { out[key] = v } }
        default: break
        }
        return out
    }
}

/// Writes a v2 manifest of data files or of delete files for one partition spec.
public enum ManifestWriter {
    public static func write(entries: [ManifestEntry], schema: Schema, spec: PartitionSpec, formatVersion: Int = 2,
                             content: ManifestFile.Content = .data, codec: AvroContainerCodec = .deflate) throws -> [UInt8] {
        guard formatVersion == 2 else { throw IcebergError.invalidArgument("manifests are written in format v2 only") }
        let partitionType = try spec.partitionType(schema: schema)
        let partitionSchema = try spec.avroPartitionSchema(schema: schema)
        let entrySchema = ManifestSchemas.manifestEntry(partition: partitionSchema)
        var writer = AvroContainerWriter(schema: entrySchema, codec: codec, metadata: [
            ("schema", schema.toJSON().serialized()),
            ("schema-id", String(schema.schemaId)),
            ("partition-spec", spec.fieldsJSON().serialized()),
            ("partition-spec-id", String(spec.specId)),
            ("format-version", "2"),
            ("content", content == .data ? "data" : "deletes"),
        ])
        func intMap(_ m: [Int: Int64]) -> AvroValue {
            m.isEmpty ? .null : .array(m.keys.sorted().map { .record([.int(Int32($0)), .long(m[$0]!)]) })
        }
        func bytesMap(_ m: [Int: [UInt8]]) -> AvroValue {
            m.isEmpty ? .null : .array(m.keys.sorted().map { .record([.int(Int32($0)), .bytes(m[$0]!)]) })
        }
        for entry in entries {
            let f = entry.dataFile
            guard (f.content == .data) == (content == .data) else {
                throw IcebergError.invalidArgument("\(f.filePath) (\(f.content)) does not belong in a \(content) manifest")
            }
            guard f.partition.count == partitionType.fields.count else {
                throw IcebergError.invalidArgument("data file \(f.filePath): \(f.partition.count) partition values for \(partitionType.fields.count) partition fields")
            }
            let partition = AvroValue.record(zip(f.partition, partitionType.fields).map { v, field in
                v.map { $0.avroValue(type: field.type) } ?? .null
            })
            let dataFile = AvroValue.record([
                .int(Int32(f.content.rawValue)), .string(f.filePath), .string(f.fileFormat), partition,
                .long(f.recordCount), .long(f.fileSizeInBytes),
                intMap(f.columnSizes), intMap(f.valueCounts), intMap(f.nullValueCounts), intMap(f.nanValueCounts),
                bytesMap(f.lowerBounds), bytesMap(f.upperBounds), .null,
                f.splitOffsets.map { .array($0.map { .long($0) }) } ?? .null,
                f.equalityIds.map { .array($0.map { .int(Int32($0)) }) } ?? .null,
                f.sortOrderId.map { .int(Int32($0)) } ?? .null,
            ])
            try writer.append(.record([
                .int(entry.status.rawValue), entry.snapshotId.map { .long($0) } ?? .null,
                entry.sequenceNumber.map { .long($0) } ?? .null, entry.fileSequenceNumber.map { .long($0) } ?? .null, dataFile,
            ]))
        }
        return try writer.finish()
    }
}

/// Reads a manifest (v1 or v2) into entries, inheriting snapshot ids and sequence numbers from its
/// manifest list row as the spec prescribes.
public enum ManifestReader {
    public static func read(_ bytes: [UInt8], location: String, manifest: ManifestFile?, schema: Schema,
                            specs: [PartitionSpec]) throws -> [ManifestEntry] {
        let reader: AvroContainerReader
        do { reader = try AvroContainerReader(bytes: bytes) } catch {
            throw IcebergError.corruptFile(location: location, message: "manifest: \(error)")
        }
        let specId = manifest?.partitionSpecId ?? reader.metadataString("partition-spec-id").flatMap(Int.init) ?? 0
        var spec = specs.first(where: { $0.specId == specId })
        if spec == nil, let text = reader.metadataString("partition-spec") {
            spec = try? PartitionSpec(json: JSONValue.parse(text))
            spec?.specId = specId
        }
        guard let spec else { throw IcebergError.corruptFile(location: location, message: "manifest uses unknown partition spec \(specId)") }
        // Partition field types come from the schema the manifest was written with when the table's has lost the column.
        var fileSchema = schema
        if let text = reader.metadataString("schema"), let parsed = try? Schema(json: JSONValue.parse(text)),
           (try? spec.partitionType(schema: schema)) == nil {
            fileSchema = parsed
        }
        let partitionType = try spec.partitionType(schema: fileSchema)
        var entries: [ManifestEntry] = []
        do {
            try reader.forEach { value in
                guard let entry = AvroRecordView(value, reader.schema), let file = entry.record(2, "data_file") else {
                    throw IcebergError.corruptFile(location: location, message: "manifest entry is not a record with data_file")
                }
                guard let statusRaw = entry.value(0, "status")?.int32Value, let status = ManifestEntryStatus(rawValue: statusRaw) else {
                    throw IcebergError.corruptFile(location: location, message: "manifest entry without a valid status")
                }
                var snapshotId = entry.long(1, "snapshot_id")
                var sequenceNumber = entry.long(3, "sequence_number")
                var fileSequenceNumber = entry.long(4, "file_sequence_number")
                if let manifest {
                    if snapshotId == nil { snapshotId = manifest.addedSnapshotId }
                    if status == .added {
                        if sequenceNumber == nil { sequenceNumber = manifest.sequenceNumber }
                        if fileSequenceNumber == nil { fileSequenceNumber = manifest.sequenceNumber }
                    }
                }
                var partition: [IcebergValue?] = []
                if let p = file.record(102, "partition") {
                    for field in partitionType.fields {
                        let v = p.value(field.id, field.name) ?? .null
                        partition.append(IcebergValue(avro: v, type: field.type))
                    }
                }
                func longs(_ id: Int, _ name: String) -> [Int: Int64] {
                    file.intMap(id, name).compactMapValues { $0.int64Value }
                }
                func bytes(_ id: Int, _ name: String) -> [Int: [UInt8]] {
                    file.intMap(id, name).compactMapValues { $0.bytesValue }
                }
                guard let path = file.value(100, "file_path")?.stringValue,
                      let recordCount = file.long(103, "record_count"), let size = file.long(104, "file_size_in_bytes") else {
                    throw IcebergError.corruptFile(location: location, message: "data file entry without file_path, record_count or file_size_in_bytes")
                }
                let content = DataFile.Content(rawValue: Int(file.value(134, "content")?.int32Value ?? 0)) ?? .data
                entries.append(ManifestEntry(
                    status: status, snapshotId: snapshotId, sequenceNumber: sequenceNumber, fileSequenceNumber: fileSequenceNumber,
                    dataFile: DataFile(
                        filePath: path, fileFormat: file.value(101, "file_format")?.stringValue ?? "PARQUET", specId: spec.specId,
                        partition: partition, recordCount: recordCount, fileSizeInBytes: size,
                        columnSizes: longs(108, "column_sizes"), valueCounts: longs(109, "value_counts"),
                        nullValueCounts: longs(110, "null_value_counts"), nanValueCounts: longs(137, "nan_value_counts"),
                        lowerBounds: bytes(125, "lower_bounds"), upperBounds: bytes(128, "upper_bounds"),
                        splitOffsets: file.value(132, "split_offsets")?.arrayValue?.compactMap(\.int64Value),
                        sortOrderId: file.value(140, "sort_order_id")?.int32Value.map(Int.init), content: content,
                        equalityIds: file.value(135, "equality_ids")?.arrayValue?.compactMap { $0.int32Value.map(Int.init) },
                        referencedDataFile: file.value(143, "referenced_data_file")?.stringValue,
                        contentOffset: file.long(144, "content_offset"))))
            }
        } catch let e as IcebergError {
            throw e
        } catch {
            throw IcebergError.corruptFile(location: location, message: "manifest: \(error)")
        }
        return entries
    }
}

/// Writes and reads manifest lists.
public enum ManifestList {
    public static func write(_ manifests: [ManifestFile], snapshotId: Int64, parentSnapshotId: Int64?, sequenceNumber: Int64,
                             codec: AvroContainerCodec = .deflate) throws -> [UInt8] {
        var writer = AvroContainerWriter(schema: ManifestSchemas.manifestFile, codec: codec, metadata: [
            ("snapshot-id", String(snapshotId)),
            ("parent-snapshot-id", parentSnapshotId.map(String.init) ?? "null"),
            ("sequence-number", String(sequenceNumber)),
            ("format-version", "2"),
        ])
        for m in manifests {
            let partitions: AvroValue = m.partitions.map { list in
                .array(list.map { s in
                    .record([.boolean(s.containsNull), s.containsNaN.map { .boolean($0) } ?? .null,
                             s.lowerBound.map { .bytes($0) } ?? .null, s.upperBound.map { .bytes($0) } ?? .null])
                })
            } ?? .null
            try writer.append(.record([
                .string(m.manifestPath), .long(m.manifestLength), .int(Int32(m.partitionSpecId)), .int(m.content.rawValue),
                .long(m.sequenceNumber), .long(m.minSequenceNumber), .long(m.addedSnapshotId),
                .int(m.addedFilesCount), .int(m.existingFilesCount), .int(m.deletedFilesCount),
                .long(m.addedRowsCount), .long(m.existingRowsCount), .long(m.deletedRowsCount), partitions, .null,
            ]))
        }
        return try writer.finish()
    }

    public static func read(_ bytes: [UInt8], location: String) throws -> [ManifestFile] {
        do {
            let reader = try AvroContainerReader(bytes: bytes)
            var out: [ManifestFile] = []
            try reader.forEach { value in
                guard let r = AvroRecordView(value, reader.schema), let path = r.value(500, "manifest_path")?.stringValue,
                      let length = r.long(501, "manifest_length"), let addedSnapshot = r.long(503, "added_snapshot_id") else {
                    throw IcebergError.corruptFile(location: location, message: "manifest list row without manifest_path, manifest_length or added_snapshot_id")
                }
                let partitions: [PartitionFieldSummary]? = r.value(507, "partitions")?.arrayValue.map { items in
                    items.compactMap { item in
                        guard case .record(let fields) = item, case .array(let arraySchema, _)? = r.schema.fields[r.schema.index(fieldId: 507, name: "partitions")!].type.nonNull as AvroSchema?,
                              let s = AvroRecordView(.record(fields), arraySchema) else { return nil }
                        return PartitionFieldSummary(containsNull: s.value(509, "contains_null")?.boolValue ?? true,
                                                     containsNaN: s.value(518, "contains_nan")?.boolValue,
                                                     lowerBound: s.value(510, "lower_bound")?.bytesValue,
                                                     upperBound: s.value(511, "upper_bound")?.bytesValue)
                    }
                }
                func int32(_ id: Int, _ name: String, _ v1Name: String) -> Int32 {
                    (r.value(id, name) ?? r.value(id, v1Name))?.int32Value ?? 0
                }
                out.append(ManifestFile(
                    manifestPath: path, manifestLength: length, partitionSpecId: Int(r.value(502, "partition_spec_id")?.int32Value ?? 0),
                    content: ManifestFile.Content(rawValue: r.value(517, "content")?.int32Value ?? 0) ?? .data,
                    sequenceNumber: r.long(515, "sequence_number") ?? 0, minSequenceNumber: r.long(516, "min_sequence_number") ?? 0,
                    addedSnapshotId: addedSnapshot,
                    addedFilesCount: int32(504, "added_files_count", "added_data_files_count"),
                    existingFilesCount: int32(505, "existing_files_count", "existing_data_files_count"),
                    deletedFilesCount: int32(506, "deleted_files_count", "deleted_data_files_count"),
                    addedRowsCount: r.long(512, "added_rows_count") ?? 0, existingRowsCount: r.long(513, "existing_rows_count") ?? 0,
                    deletedRowsCount: r.long(514, "deleted_rows_count") ?? 0, partitions: partitions))
            }
            return out
        } catch let e as IcebergError {
            throw e
        } catch {
            throw IcebergError.corruptFile(location: location, message: "manifest list: \(error)")
        }
    }
}
