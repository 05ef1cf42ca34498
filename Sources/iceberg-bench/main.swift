// iceberg-bench: rows/s appending Bronze-shaped rows (200-byte raw_bytes, zstd) to a local Iceberg table
// through the SQLite catalog, and rows/s reading its `partition` and `offset` columns back.
// Usage: iceberg-bench DIR ROWS   (prints one JSON line; scripts/bench-iceberg.sh runs the peers)
import Foundation
import Iceberg
import Parquet

let args = CommandLine.arguments
guard args.count == 3, let rows = Int(args[2]), rows > 0 else {
    FileHandle.standardError.write(Data("usage: iceberg-bench DIR ROWS\n".utf8))
    exit(2)
}
let dir = args[1]
let baseMicros: Int64 = 1_764_028_800_000_000
let baseDay: Int32 = 20417
let batchRows = 65_536

/// Rows generated before timing, as the Python peer builds its Arrow table before timing `append`.
func makeBatch(start: Int) -> [ColumnData] {
    let n = min(batchRows, rows - start)
    var raw = ByteArrayValues()
    raw.reserve(values: n, bytes: n * 200)
    var row = [UInt8](repeating: 0, count: 200)
    for i in 0..<n {
        let o = UInt64(start + i)
        for j in 0..<200 { row[j] = UInt8(truncatingIfNeeded: (o &* 2_654_435_761) >> UInt64(j % 24) &+ UInt64(j)) }
        raw.append(row)
    }
    let offsets = (0..<n).map { Int64(start + $0) }
    return [
        ColumnData(.byteArray(raw)),
        ColumnData(.byteArray(ByteArrayValues(strings: repeatElement("binance.trades", count: n)))),
        ColumnData(.int32(offsets.map { Int32($0 % 6) })),
        ColumnData(.int64(offsets)),
        ColumnData(.int64(offsets.map { baseMicros + $0 * 1000 })),
        ColumnData(.int64(offsets.map { baseMicros + $0 })),
        ColumnData(.int32(repeatElement(baseDay, count: n).map { $0 })),
    ]
}

func run() async throws {
    let batches = stride(from: 0, to: rows, by: batchRows).map(makeBatch)
    // The Python peer appends exactly these raw_bytes.
    var rawFile = Data()
    for batch in batches { if case .byteArray(let raw) = batch[0].values { rawFile.append(contentsOf: raw.bytes) } }
    try rawFile.write(to: URL(fileURLWithPath: dir + "/raw.bin"))
    let catalog = try await SQLCatalog.openSQLite(path: dir + "/swift-catalog.db", name: "k2", warehouse: "file://" + dir + "/swift-warehouse")
    try await catalog.createNamespace(["market_data"], properties: [:])
    let schema = Schema(fields: [
        NestedField(id: 1, name: "raw_bytes", type: .binary), NestedField(id: 2, name: "topic", type: .string),
        NestedField(id: 3, name: "partition", type: .int), NestedField(id: 4, name: "offset", type: .long),
        NestedField(id: 5, name: "kafka_timestamp", type: .timestamptz), NestedField(id: 6, name: "ingestion_timestamp", type: .timestamptz),
        NestedField(id: 7, name: "ingestion_date", type: .date),
    ])
    let spec = PartitionSpec(fields: [PartitionField(sourceId: 7, fieldId: 1000, name: "ingestion_date_day", transform: .day)])
    var table = try await catalog.createTable(
        TableIdentifier(namespace: ["market_data"], name: "bench"), schema: schema, spec: spec, sortOrder: .unsorted,
        properties: ["write.parquet.compression-codec": "zstd", "write.parquet.compression-level": "1", "write.target-file-size-bytes": "134217728"], location: nil)

    let writeStart = Date()
    let writer = try DataFileWriter(table: table)
    for batch in batches { try await writer.write(batch, partition: [.date(baseDay)]) }
    table = try await FastAppend(catalog: catalog).commit(table: table, files: try await writer.finish())
    let writeSeconds = Date().timeIntervalSince(writeStart)

    let readStart = Date()
    let reader = try ScanReader(table: table)
    var readRows = 0
    var checksum: Int64 = 0
    for task in try await TableScan(table: table).planFiles() {
        let cols = try await reader.read(task, columns: ["partition", "offset"])
        if case .int64(let offsets) = cols[1].values { readRows += offsets.count; checksum &+= offsets.reduce(0, &+) }
    }
    let readSeconds = Date().timeIntervalSince(readStart)
    let files = try await TableScan(table: table).planFiles().map { $0.dataFile.filePath }
    print("{\"rows\":\(rows),\"write_seconds\":\(writeSeconds),\"read_rows\":\(readRows),\"read_seconds\":\(readSeconds),\"checksum\":\(checksum),\"files\":[\(files.map { "\"\($0)\"" }.joined(separator: ","))]}")
}

let done = DispatchSemaphore(value: 0)
Task {
    do { try await run() } catch {
        FileHandle.standardError.write(Data("iceberg-bench: \(error)\n".utf8))
        exit(1)
    }
    done.signal()
}
done.wait()
