import Iceberg
import Parity
import Parquet

/// The columns of the Bronze schema the check reads, resolved against the table schema.
struct BronzeColumns {
    var topic: NestedField
    var partition: NestedField
    var offset: NestedField
    var kafkaTimestamp: NestedField
    var ingestionDate: NestedField?
    var rawBytes: NestedField?
}

/// Turns the row groups of Bronze Parquet files into per-partition chunks. Rows of one row group may
/// belong to many Kafka partitions (a file holds what one writer task saw), so rows are routed to one
/// buffer per partition, handed to the engine at the end of each row group; the buffers' storage is reused.
struct BronzeFileReader {
    let columns: BronzeColumns
    /// The table's `schema.name-mapping.default`, for files without field ids.
    let nameMapping: NameMapping?
    let payload: Bool
    let wanted: Set<Int32>?
    let keys: Set<PartitionKey>?
    /// Rows placed, and rows that could not be placed (a null topic, partition, offset or timestamp).
    private(set) var rowsRead: Int64 = 0
    private(set) var nullKeyRows: Int64 = 0
    /// Rows the table's delete files remove (not placed, not counted in `rowsRead`).
    private(set) var deletedRows: Int64 = 0
    private var buffers: [ParityChunk] = []
    private var bufferIndex: [PartitionKey: Int] = [:]

    init(columns: BronzeColumns, nameMapping: NameMapping?, payload: Bool, wanted: Set<Int32>?, keys: Set<PartitionKey>?) {
        self.columns = columns
        self.nameMapping = nameMapping
        self.payload = payload
        self.wanted = wanted
        self.keys = keys
    }

    /// One column as the file holds it: by the field id the file records, else through the table's name
    /// mapping (files registered with `add_files` carry no ids), as the table spec's column projection says.
    private func selector(_ field: NestedField, in parquet: ParquetReader, ids: ParquetFieldIds) -> (ParquetColumnSelector, Int)? {
        guard let index = ids.column(forFieldId: field.id) else { return nil }
        let column = parquet.schema.columns[index]
        if let id = column.fieldId { return (.fieldId(id), index) }
        // Selecting by name picks the first column of that name: only use it when that is this column.
        return parquet.columnIndex(.name(column.name)) == index ? (.name(column.name), index) : nil
    }

    /// `deletes` are the rows of this file that delete files remove; `equalityFields` the table's fields
    /// they compare (by id).
    mutating func read(_ parquet: ParquetReader, location: String, scope: ParityScope,
                       deletes: RowDeletes = RowDeletes(), equalityFields: [NestedField] = [],
                       sink: (inout ParityChunk) throws -> Void) throws {
        let ids = ParquetFieldIds(schema: parquet.schema, nameMapping: nameMapping)
        func required(_ field: NestedField) throws -> (ParquetColumnSelector, Int) {
            guard let found = selector(field, in: parquet, ids: ids) else {
                throw VerifyFailure("data file \(location) has no column \(field.name) (field id \(field.id))")
            }
            return found
        }
        let topic = try required(columns.topic), partition = try required(columns.partition)
        let offset = try required(columns.offset), timestamp = try required(columns.kafkaTimestamp)
        let date = columns.ingestionDate.flatMap { selector($0, in: parquet, ids: ids) }
        let raw = payload ? try required(columns.rawBytes!) : nil

        // Iceberg timestamps are micros; files written by other tools may hold millis or nanos, or INT96
        // (Spark's legacy default), which is converted per row group instead of scaled per row.
        let timestampColumn = parquet.schema.columns[timestamp.1]
        var scale: (multiply: Int64, divide: Int64) = (1, 1)
        let int96Timestamps = timestampColumn.physicalType == .int96
        switch timestampColumn.logicalType {
        case .timestamp(_, .millis)?: scale = (1000, 1)
        case .timestamp(_, .nanos)?: scale = (1, 1000)
        case .timestamp(_, .micros)?, nil: scale = (1, 1)
        default: throw VerifyFailure("data file \(location): column \(timestampColumn.name) is not a timestamp")
        }
        guard timestampColumn.physicalType == .int64 || int96Timestamps else {
            throw VerifyFailure("data file \(location): column \(timestampColumn.name) is \(timestampColumn.physicalType), expected INT64 or INT96 timestamps")
        }

        var predicates: [ParquetRangePredicate] = []
        if let wanted, let low = wanted.min(), let high = wanted.max() {
            predicates.append(.int32(partition.0, low...high))
        }
        if scope.filtersTime && !int96Timestamps {  // INT96 statistics have no defined order
            let low = scope.sinceMicros.map { $0 * scale.divide / scale.multiply - 1 } ?? .min
            let high = scope.untilMicros.map { $0 * scale.divide / scale.multiply + 1 } ?? .max
            if low <= high { predicates.append(.int64(timestamp.0, low...high)) }
        }
        var selectors = [topic.0, partition.0, offset.0, timestamp.0]
        if let date { selectors.append(date.0) }
        if let raw { selectors.append(raw.0) }

        var firstRow: [Int64] = [0]
        for group in parquet.metadata.rowGroups { firstRow.append(firstRow.last! + group.numRows) }
        for rowGroup in try parquet.rowGroups(matching: predicates) {
            // Rows of this row group that delete files remove, by position in the file or by field values.
            var removed: [Bool]?
            if !deletes.isEmpty {
                var values: [Int: (ColumnData, IcebergType)] = [:]
                for field in equalityFields {
                    let (selector, index) = try required(field)
                    let piece = try parquet.readRowGroup(rowGroup, columns: [selector])[0]
                    do {
                        values[field.id] = (try ScanReader.convert(piece, from: parquet.schema.columns[index], to: field.type), field.type)
                    } catch {
                        throw VerifyFailure("data file \(location), row group \(rowGroup): \(error)")
                    }
                }
                removed = try deletes.deleted(firstRow: firstRow[rowGroup], rowCount: Int(parquet.metadata.rowGroups[rowGroup].numRows), columns: values)
            }
            // A row group whose topic statistics say one value and no nulls needs no topic column read:
            // Bronze files hold one topic, and decoding a string per row is the costliest part of a scan.
            var constantTopic: String?
            if let stats = parquet.columnMetaData(rowGroup: rowGroup, column: topic.1).statistics,
               let low = stats.minValue, low == stats.maxValue, stats.nullCount == 0 {
                constantTopic = String(decoding: low, as: UTF8.self)
            }
            var data: [ColumnData]
            if constantTopic != nil {
                data = try parquet.readRowGroup(rowGroup, columns: Array(selectors.dropFirst()))
                data.insert(ColumnData(.byteArray(ByteArrayValues())), at: 0)
            } else {
                data = try parquet.readRowGroup(rowGroup, columns: selectors)
            }
            if int96Timestamps {
                do {
                    data[3] = try ScanReader.convert(data[3], from: timestampColumn, to: columns.kafkaTimestamp.type)
                } catch {
                    throw VerifyFailure("data file \(location), row group \(rowGroup): \(error)")
                }
            }
            try route(data, constantTopic: constantTopic, hasDate: date != nil, scale: scale, removed: removed,
                      location: location, rowGroup: rowGroup)
            for index in buffers.indices where buffers[index].count > 0 {
                try sink(&buffers[index])
                buffers[index].removeAll()
            }
        }
    }

    private mutating func route(_ data: [ColumnData], constantTopic: String?, hasDate: Bool, scale: (multiply: Int64, divide: Int64),
                                removed: [Bool]?, location: String, rowGroup: Int) throws {
        guard case .byteArray(let topics) = data[0].values else { throw wrongType("topic", location) }
        guard case .int32(let partitions) = data[1].values else { throw wrongType("partition", location) }
        guard case .int64(let offsets) = data[2].values else { throw wrongType("offset", location) }
        guard case .int64(let timestamps) = data[3].values else { throw wrongType("kafka_timestamp", location) }
        var days: [Int32] = []
        var dateValidity: [Bool]?
        if hasDate {
            guard case .int32(let values) = data[4].values else { throw wrongType("ingestion_date", location) }
            days = values
            dateValidity = data[4].validity
        }
        var payloads = ByteArrayValues()
        var payloadValidity: [Bool]?
        if payload {
            guard case .byteArray(let values) = data[hasDate ? 5 : 4].values else { throw wrongType("raw_bytes", location) }
            payloads = values
            payloadValidity = data[hasDate ? 5 : 4].validity
        }
        let rows = data[1].rowCount
        for column in data.dropFirst(constantTopic == nil ? 0 : 1) where column.rowCount != rows {
            throw VerifyFailure("data file \(location), row group \(rowGroup): columns disagree on the row count")
        }
        // Dense value cursors: a column with validity has values only for its non-null rows.
        var cursors = [Int](repeating: 0, count: data.count)
        let validities = data.map(\.validity)
        let keyValidity = Array(validities[0..<4])
        let anyKeyNulls = keyValidity.contains { $0 != nil }

        var lastTopic: ArraySlice<UInt8> = []
        var lastTopicName = ""
        var lastPartition: Int32 = -1
        var current = -2   // buffer index of the last row's key; -1: skip rows of this key; -2: none yet

        try payloads.bytes.withUnsafeBytes { payloadBytes in
            for row in 0..<rows {
                // Positions of this row's values in each column (advancing past nulls).
                var keyIsNull = false
                var topicIndex = row, partitionIndex = row, offsetIndex = row, timestampIndex = row
                if anyKeyNulls {
                    // Without an array per row: each key column's position, or a null.
                    func position(_ column: Int) -> Int? {
                        guard let validity = keyValidity[column] else { return row }
                        guard validity[row] else { return nil }
                        defer { cursors[column] += 1 }
                        return cursors[column]
                    }
                    let t = position(0), p = position(1), o = position(2), s = position(3)
                    if let t, let p, let o, let s {
                        (topicIndex, partitionIndex, offsetIndex, timestampIndex) = (t, p, o, s)
                    } else {
                        keyIsNull = true
                    }
                }
                var dayIndex = row, payloadIndex = row
                var hasDay = hasDate, hasPayload = true
                let dayColumn = 4, payloadColumn = hasDate ? 5 : 4
                if hasDate, let validity = dateValidity {
                    if validity[row] { dayIndex = cursors[dayColumn]; cursors[dayColumn] += 1 } else { hasDay = false }
                }
                if payload, let validity = payloadValidity {
                    if validity[row] { payloadIndex = cursors[payloadColumn]; cursors[payloadColumn] += 1 } else { hasPayload = false }
                }
                if let removed, removed[row] {
                    deletedRows += 1
                    continue
                }
                if keyIsNull {
                    nullKeyRows += 1
                    continue
                }
                rowsRead += 1
                let partition = partitions[partitionIndex]
                if let constantTopic {
                    if partition != lastPartition || current == -2 {
                        lastPartition = partition
                        current = bufferFor(PartitionKey(topic: constantTopic, partition: partition))
                    }
                } else if partition != lastPartition || topics[topicIndex] != lastTopic || current == -2 {
                    let topicBytes = topics[topicIndex]
                    if topicBytes != lastTopic {
                        lastTopic = topicBytes
                        lastTopicName = String(decoding: topicBytes, as: UTF8.self)
                    }
                    lastPartition = partition
                    current = bufferFor(PartitionKey(topic: lastTopicName, partition: partition))
                }
                guard current >= 0 else { continue }
                buffers[current].offsets.append(offsets[offsetIndex])
                buffers[current].timestampsMicros.append(timestamps[timestampIndex] * scale.multiply / scale.divide)
                if hasDate { buffers[current].ingestionDays!.append(hasDay ? days[dayIndex] : Int32.min) }
                if payload {
                    if hasPayload {
                        let start = payloads.offsets[payloadIndex], end = payloads.offsets[payloadIndex + 1]
                        buffers[current].payloadHashes!.append(PayloadHash.hash(UnsafeRawBufferPointer(rebasing: payloadBytes[start..<end])))
                    } else {
                        buffers[current].payloadHashes!.append(PayloadHash.null)
                    }
                }
            }
        }
    }

    /// The buffer of a key, created on first use; -1 when the key is outside what was asked for.
    private mutating func bufferFor(_ key: PartitionKey) -> Int {
        if let index = bufferIndex[key] { return index }
        if let wanted, !wanted.contains(key.partition) { bufferIndex[key] = -1; return -1 }
        if let keys, !keys.contains(key) { bufferIndex[key] = -1; return -1 }
        var chunk = ParityChunk(key: key, ingestionDays: columns.ingestionDate == nil ? nil : [], payloadHashes: payload ? [] : nil)
        chunk.offsets.reserveCapacity(8192)
        chunk.timestampsMicros.reserveCapacity(8192)
        buffers.append(chunk)
        bufferIndex[key] = buffers.count - 1
        return buffers.count - 1
    }

    private func wrongType(_ column: String, _ location: String) -> VerifyFailure {
        VerifyFailure("data file \(location): column \(column) has an unexpected physical type")
    }
}
