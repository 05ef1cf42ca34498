import Bronze
import Foundation
import Iceberg
import Parquet

/// A small Spark-style Bronze table written with the Iceberg module itself: a SQLite catalog and a local
/// warehouse in a fresh directory, one commit per `append`.
final class BronzeTableFixture {
    static let topic = "market.crypto.trades.binance.raw"
    static let baseMicros: Int64 = 1_764_028_800_000_000   // 2025-11-25T00:00:00Z
    static let baseDay: Int32 = 20417                       // 2025-11-25
    let directory: URL
    let catalog: SQLCatalog
    let identifier = TableIdentifier(namespace: ["market_data"], name: "bronze_binance_trades")

    init(directory: URL) async throws {
        self.directory = directory
        catalog = try await SQLCatalog.openSQLite(path: directory.appendingPathComponent("catalog.db").path, name: "k2",
                                                  warehouse: "file://" + directory.appendingPathComponent("warehouse").path)
        try await catalog.createNamespace(["market_data"], properties: [:])
        // The Spark job's definition as the library makes it (the Iceberg tests check it against K2's own).
        _ = try await catalog.createTable(identifier, schema: BronzeTableStyle.spark.schema, spec: BronzeTableStyle.spark.partitionSpec,
                                          sortOrder: .unsorted, properties: BronzeTableStyle.spark.properties(exchange: .binance), location: nil)
    }

    /// The payload of an offset, the same bytes every side of a test writes.
    static func payload(partition: Int32, offset: Int64) -> [UInt8] {
        [0, 0, 0, 0, 1] + Array("trade p\(partition) #\(offset)".utf8)
    }

    static func timestampMicros(offset: Int64) -> Int64 { baseMicros + offset * 1000 }

    /// Commits one data file holding `offsets` of `partition`; returns the files committed.
    @discardableResult
    func append(partition: Int32, offsets: [Int64]) async throws -> [DataFile] {
        let table = try await catalog.loadTable(identifier)
        let writer = try DataFileWriter(table: table)
        let n = offsets.count
        try await writer.write([
            ColumnData(.byteArray(ByteArrayValues(offsets.map { Self.payload(partition: partition, offset: $0) }))),
            ColumnData(.byteArray(ByteArrayValues(strings: Array(repeating: Self.topic, count: n)))),
            ColumnData(.int32(Array(repeating: partition, count: n))),
            ColumnData(.int64(offsets)),
            ColumnData(.int64(offsets.map(Self.timestampMicros))),
            ColumnData(.int64(offsets.map(Self.timestampMicros))),
            ColumnData(.int32(Array(repeating: Self.baseDay, count: n))),
        ], partition: [.date(Self.baseDay)])
        let files = try await writer.finish()
        _ = try await FastAppend(catalog: catalog).commit(table: table, files: files)
        return files
    }

    /// Commits already-written files again (the duplicate commit of an at-least-once sink).
    func recommit(_ files: [DataFile]) async throws {
        let table = try await catalog.loadTable(identifier)
        _ = try await FastAppend(catalog: catalog).commit(table: table, files: files)
    }
}
