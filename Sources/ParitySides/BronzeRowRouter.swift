import Iceberg
import Parity
import Parquet

/// Turns the row groups of Bronze data files (`ScanBatch`es of `BronzeColumns.projection`) into
/// per-partition chunks. Rows of one row group may belong to many Kafka partitions (a file holds what one
/// writer task saw), so rows go to one buffer per partition, handed over at the end of each row group;
/// the buffers' storage is reused.
struct BronzeRowRouter {
    let hasDate: Bool
    let payload: Bool
    /// Kafka partition numbers and partition keys asked for (nil: all).
    let wanted: Set<Int32>?
    let keys: Set<PartitionKey>?
    /// Rows placed, and rows that could not be placed (a null topic, partition, offset or timestamp).
    private(set) var rowsRead: Int64 = 0
    private(set) var nullKeyRows: Int64 = 0
    /// Rows the table's delete files removed (not placed, not counted in `rowsRead`).
    private(set) var deletedRows: Int64 = 0
    private var buffers: [ParityChunk] = []
    private var bufferIndex: [PartitionKey: Int] = [:]

    init(columns: BronzeColumns, wanted: Set<Int32>?, keys: Set<PartitionKey>?) {
        hasDate = columns.ingestionDate != nil
        payload = columns.rawBytes != nil
        self.wanted = wanted
        self.keys = keys
    }

    /// Routes one batch and hands every non-empty buffer to `sink`.
    mutating func route(_ batch: ScanBatch, sink: (inout ParityChunk) throws -> Void) throws {
        deletedRows += Int64(batch.deletedRows)
        let rows = batch.rowCount
        guard rows > 0 else { return }
        // A topic the statistics give for the whole row group is not decoded (a string per row is the
        // costliest part of a scan): Bronze files hold one topic.
        var constantTopic: String?
        var topics = ByteArrayValues()
        var topicValidity: [Bool]?
        switch batch.columns[0] {
        case .constant(.string(let name)?): constantTopic = name
        case .constant: nullKeyRows += Int64(rows); return
        case .values(let data):
            guard case .byteArray(let values) = data.values else { throw wrongType("topic", batch) }
            topics = values
            topicValidity = data.validity
        }
        // A key column the file lacks (no partition value either) leaves no row placeable.
        for column in batch.columns[1...3] {
            if case .constant(nil) = column { nullKeyRows += Int64(rows); return }
        }
        // Other constants (a field the file lacks) are rare: spelled out as columns.
        let data = try batch.columns.enumerated().map { index, column -> ColumnData in
            switch column {
            case .values(let data): return data
            case .constant(let value):
                if index == 0 { return ColumnData(.byteArray(ByteArrayValues())) }
                return try Self.repeated(value, rows: rows, isDate: hasDate && index == 4, batch: batch)
            }
        }
        guard case .int32(let partitions) = data[1].values else { throw wrongType("partition", batch) }
        guard case .int64(let offsets) = data[2].values else { throw wrongType("offset", batch) }
        guard case .int64(let timestamps) = data[3].values else { throw wrongType("kafka_timestamp", batch) }
        var days: [Int32] = []
        var dateValidity: [Bool]?
        if hasDate {
            guard case .int32(let values) = data[4].values else { throw wrongType("ingestion_date", batch) }
            days = values
            dateValidity = data[4].validity
        }
        let payloadColumn = hasDate ? 5 : 4
        var payloads = ByteArrayValues()
        var payloadValidity: [Bool]?
        if payload {
            guard case .byteArray(let values) = data[payloadColumn].values else { throw wrongType("raw_bytes", batch) }
            payloads = values
            payloadValidity = data[payloadColumn].validity
        }
        for column in data.dropFirst(constantTopic == nil ? 0 : 1) where column.rowCount != rows {
            throw ParityCheckError("data file \(batch.location), row group \(batch.rowGroup): columns disagree on the row count")
        }
        // Dense value cursors: a column with validity has values only for its non-null rows.
        var cursors = [Int](repeating: 0, count: data.count)
        let keyValidity = [topicValidity, data[1].validity, data[2].validity, data[3].validity]
        let anyKeyNulls = keyValidity.contains { $0 != nil }

        var lastTopic: ArraySlice<UInt8> = []
        var lastTopicName = ""
        var lastPartition: Int32 = -1
        var current = -2   // buffer index of the last row's key; -1: skip rows of this key; -2: none yet

        payloads.bytes.withUnsafeBytes { payloadBytes in
            for row in 0..<rows {
                // Positions of this row's values in each column (advancing past nulls).
                var topicIndex = row, partitionIndex = row, offsetIndex = row, timestampIndex = row
                var keyIsNull = false
                if anyKeyNulls {
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
                if hasDate, let validity = dateValidity {
                    if validity[row] { dayIndex = cursors[4]; cursors[4] += 1 } else { hasDay = false }
                }
                if payload, let validity = payloadValidity {
                    if validity[row] { payloadIndex = cursors[payloadColumn]; cursors[payloadColumn] += 1 } else { hasPayload = false }
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
                buffers[current].timestampsMicros.append(timestamps[timestampIndex])
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
        for index in buffers.indices where buffers[index].count > 0 {
            try sink(&buffers[index])
            buffers[index].removeAll()
        }
    }

    /// The buffer of a key, created on first use; -1 when the key is outside what was asked for.
    private mutating func bufferFor(_ key: PartitionKey) -> Int {
        if let index = bufferIndex[key] { return index }
        if let wanted, !wanted.contains(key.partition) { bufferIndex[key] = -1; return -1 }
        if let keys, !keys.contains(key) { bufferIndex[key] = -1; return -1 }
        var chunk = ParityChunk(key: key, ingestionDays: hasDate ? [] : nil, payloadHashes: payload ? [] : nil)
        chunk.offsets.reserveCapacity(8192)
        chunk.timestampsMicros.reserveCapacity(8192)
        buffers.append(chunk)
        bufferIndex[key] = buffers.count - 1
        return buffers.count - 1
    }

    /// A constant as a column of `rows` rows, in the representation `ScanReader` gives its type.
    private static func repeated(_ value: IcebergValue?, rows: Int, isDate: Bool, batch: ScanBatch) throws -> ColumnData {
        let nulls = [Bool](repeating: false, count: rows)
        switch value {
        case nil: return isDate ? ColumnData(.int32([]), validity: nulls) : ColumnData(.byteArray(ByteArrayValues()), validity: nulls)
        case .int(let v)?, .date(let v)?: return ColumnData(.int32([Int32](repeating: v, count: rows)))
        case .long(let v)?, .timestamp(let v)?, .timestamptz(let v)?: return ColumnData(.int64([Int64](repeating: v, count: rows)))
        case .binary(let bytes)?: return ColumnData(.byteArray(ByteArrayValues(repeatElement(bytes, count: rows))))
        case let other?:
            throw ParityCheckError("data file \(batch.location): a Bronze column holds the unexpected constant \(other)")
        }
    }

    private func wrongType(_ column: String, _ batch: ScanBatch) -> ParityCheckError {
        ParityCheckError("data file \(batch.location): column \(column) has an unexpected physical type")
    }
}
