import Bronze
import Foundation
import Iceberg
import Parquet

/// Bronze tables of both styles (`BronzeTableStyle`: schema, partition spec, properties as the K2 jobs
/// create them) in one SQLite catalog and local warehouse, written with the Iceberg module itself, one
/// commit per `append`. Rows hold `BronzeTableFixture`'s payloads and Kafka timestamps; the ingestion
/// time says which write a row came from (a rerun writes the same records later).
final class StyledBronzeTables {
    let directory: URL
    let catalog: SQLCatalog
    var database: String { directory.appendingPathComponent("catalog.db").path }
    var warehouse: String { directory.appendingPathComponent("warehouse").path }

    init(directory: URL) async throws {
        self.directory = directory
        catalog = try await SQLCatalog.openSQLite(path: directory.appendingPathComponent("catalog.db").path, name: "k2",
                                                  warehouse: "file://" + directory.appendingPathComponent("warehouse").path)
        try await catalog.createNamespace(["market_data"], properties: [:])
    }

    static func identifier(_ style: BronzeTableStyle, suffix: String = "") -> TableIdentifier {
        TableIdentifier(namespace: ["market_data"], name: style.tableName(exchange: .binance) + suffix)
    }

    @discardableResult
    func create(_ style: BronzeTableStyle, suffix: String = "", properties: [String: String] = [:]) async throws -> TableIdentifier {
        let id = Self.identifier(style, suffix: suffix)
        _ = try await catalog.createTable(id, schema: style.schema, spec: style.partitionSpec, sortOrder: .unsorted,
                                          properties: style.properties(exchange: .binance).merging(properties) { $1 }, location: nil)
        return id
    }

    /// The ingestion time of the rows of write number `write` (0: the original, 1: a rerun...).
    static func ingestionMicros(offset: Int64, write: Int) -> Int64 {
        BronzeTableFixture.timestampMicros(offset: offset) + 60_000_000 + Int64(write) * 3_600_000_000
    }

    /// One row as every reader should give it back: partition, offset, payload hex, topic, Kafka and
    /// ingestion time in µs, ingestion date.
    static func rowText(partition: Int32, offset: Int64, write: Int) -> String {
        let hex = BronzeTableFixture.payload(partition: partition, offset: offset).map { String(format: "%02x", $0) }.joined()
        return "\(partition)|\(offset)|\(hex)|\(BronzeTableFixture.topic)|\(BronzeTableFixture.timestampMicros(offset: offset))|"
            + "\(ingestionMicros(offset: offset, write: write))|\(BronzeTableFixture.baseDay)"
    }

    /// Commits one data file holding `rows` ((partition, offset, write) in file order); returns it.
    @discardableResult
    func append(_ id: TableIdentifier, rows: [(partition: Int32, offset: Int64, write: Int)]) async throws -> DataFile {
        let table = try await catalog.loadTable(id)
        let writer = try DataFileWriter(table: table)
        // Batches of 25 rows: the writer closes a row group between batches once it holds
        // write.parquet.row-group-size-bytes, so a small setting gives files of several row groups.
        for start in stride(from: 0, to: rows.count, by: 25) {
            try await write(Array(rows[start..<min(start + 25, rows.count)]), to: writer)
        }
        let files = try await writer.finish()
        precondition(files.count == 1, "one data file per append")
        _ = try await FastAppend(catalog: catalog).commit(table: table, files: files)
        return files[0]
    }

    private func write(_ rows: [(partition: Int32, offset: Int64, write: Int)], to writer: DataFileWriter) async throws {
        let n = rows.count
        try await writer.write([
            ColumnData(.byteArray(ByteArrayValues(rows.map { BronzeTableFixture.payload(partition: $0.partition, offset: $0.offset) }))),
            ColumnData(.byteArray(ByteArrayValues(strings: Array(repeating: BronzeTableFixture.topic, count: n)))),
            ColumnData(.int32(rows.map(\.partition))),
            ColumnData(.int64(rows.map(\.offset))),
            ColumnData(.int64(rows.map { BronzeTableFixture.timestampMicros(offset: $0.offset) })),
            ColumnData(.int64(rows.map { Self.ingestionMicros(offset: $0.offset, write: $0.write) })),
            ColumnData(.int32(Array(repeating: BronzeTableFixture.baseDay, count: n))),
        ], partition: [.date(BronzeTableFixture.baseDay)])
    }

    /// Every row of the current snapshot through our scan (deletes applied), as `rowText` spells it.
    func rows(_ id: TableIdentifier) async throws -> [String] {
        let table = try await catalog.loadTable(id)
        let reader = try ScanReader(table: table)
        var out: [String] = []
        for task in try await TableScan(table: table).planFiles() {
            let c = try await reader.read(task, columns: ["partition", "offset", "raw_bytes", "topic", "kafka_timestamp",
                                                           "ingestion_timestamp", "ingestion_date"])
            guard case .int32(let partitions) = c[0].values, case .int64(let offsets) = c[1].values,
                  case .byteArray(let payloads) = c[2].values, case .byteArray(let topics) = c[3].values,
                  case .int64(let kafka) = c[4].values, case .int64(let ingestion) = c[5].values,
                  case .int32(let days) = c[6].values, c.allSatisfy({ $0.validity == nil }) else {
                throw SkipRow(description: "unexpected column representation in \(task.dataFile.filePath)")
            }
            for i in partitions.indices {
                let hex = payloads[i].map { String(format: "%02x", $0) }.joined()
                out.append("\(partitions[i])|\(offsets[i])|\(hex)|\(String(decoding: topics[i], as: UTF8.self))|\(kafka[i])|\(ingestion[i])|\(days[i])")
            }
        }
        return out.sorted()
    }

    struct SkipRow: Error, CustomStringConvertible { var description: String }
}
