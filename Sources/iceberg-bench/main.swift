// iceberg-bench: rows/s appending Bronze-shaped rows (200-byte raw_bytes, zstd) to a local Iceberg table
// through the SQLite catalog, and rows/s reading its `partition` and `offset` columns back.
// Usage: iceberg-bench DIR ROWS   (prints one JSON line; scripts/bench-iceberg.sh runs the peers)
//        iceberg-bench copy ...    (our writer alone on an existing table's rows; scripts/bench-bronze.sh)
import Foundation
import Iceberg
import Parquet

let args = CommandLine.arguments

/// `copy`: our writer alone on the rows of an existing table (the floor of `k2-replay --to iceberg`, which also
/// reads the log, scans each frame and builds each value): every column of every data file is read into memory
/// first, then the timed part writes them as Parquet data files of a fresh table with the same schema, spec and
/// properties, and commits one append. The peer's figure (bench_bronze_peer.py) is pyiceberg's `append` of the
/// same rows from Arrow in memory. Prints "WALL CPU ROWS": seconds of the timed part, its CPU seconds (the whole
/// process, all threads), rows written.
func copyTable(catalogPath: String, warehouse: String, table name: String, outCatalogPath: String, outWarehouse: String) async throws {
    func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
    let warehouse = absolute(warehouse), outWarehouse = absolute(outWarehouse)
    let parts = name.split(separator: ".").map(String.init)
    let identifier = TableIdentifier(namespace: Array(parts.dropLast()), name: parts.last!)
    let source = try await SQLCatalog.openSQLite(path: catalogPath, name: "k2", warehouse: "file://" + warehouse)
    let table = try await source.loadTable(identifier)
    let schema = table.metadata.currentSchema
    let columns = schema.fields.map(\.name)
    let reader = try ScanReader(table: table)
    var batches: [(columns: [ColumnData], partition: [IcebergValue?])] = []
    var rows = 0
    for task in try await TableScan(table: table).planFiles() {
        let data = try await reader.read(task, columns: columns)
        rows += Int(task.dataFile.recordCount)
        batches.append((data, task.dataFile.partition))
    }
    let target = try await SQLCatalog.openSQLite(path: outCatalogPath, name: "k2", warehouse: "file://" + outWarehouse)
    try await target.createNamespace(identifier.namespace, properties: [:])
    var copy = try await target.createTable(identifier, schema: schema, spec: table.metadata.defaultSpec, sortOrder: .unsorted,
                                            properties: table.metadata.properties, location: nil)
    let cpuStart = processCPUSeconds()
    let start = Date()
    let writer = try DataFileWriter(table: copy)
    for batch in batches { try await writer.write(batch.columns, partition: batch.partition) }
    copy = try await FastAppend(catalog: target).commit(table: copy, files: try await writer.finish())
    let wall = Date().timeIntervalSince(start)
    print(String(format: "%.3f %.3f %d", wall, processCPUSeconds() - cpuStart, rows))
}

func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func runAsync(_ body: @escaping @Sendable () async throws -> Void) -> Never {
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await body() } catch {
            FileHandle.standardError.write(Data("iceberg-bench: \(error)\n".utf8))
            exit(1)
        }
        done.signal()
    }
    done.wait()
    exit(0)
}

if args.count == 7 && args[1] == "copy" {
    runAsync { try await copyTable(catalogPath: args[2], warehouse: args[3], table: args[4], outCatalogPath: args[5], outWarehouse: args[6]) }
}
guard args.count == 3, let rows = Int(args[2]), rows > 0 else {
    FileHandle.standardError.write(Data("usage: iceberg-bench DIR ROWS\n       iceberg-bench copy CATALOG.db WAREHOUSE NAMESPACE.TABLE OUT.db OUT_WAREHOUSE\n".utf8))
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

runAsync { try await run() }
