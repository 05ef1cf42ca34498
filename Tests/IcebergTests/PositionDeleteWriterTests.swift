import Avro
import Foundation
@testable import Iceberg
import TestSupport
import XCTest

/// Duplicate rows removed with position delete files we write: pyiceberg and duckdb (independent readers)
/// and our own scan read each offset once afterwards, and nothing else in the table changed.
final class PositionDeleteWriterTests: LocalWarehouseTestCase {
    func testPositionDeletesRemoveExactlyTheDuplicateRowsForEveryReader() async throws {
        let catalog = try await SQLCatalog.open(connection: try SQLiteConnection(path: database), name: "k2", warehouse: warehouse, io: LocalFileIO())
        try await catalog.createNamespace(["market_data"], properties: [:])
        let id = TableIdentifier(namespace: ["market_data"], name: "bronze_binance_trades")
        var table = try await catalog.createTable(id, schema: BronzeFixtures.sparkSchema(), spec: BronzeFixtures.sparkSpec,
                                                  sortOrder: .unsorted, properties: BronzeFixtures.sparkProperties, location: nil)
        // Offsets 200..<300 of partition 0 written twice (a replay that overlapped), in a second file.
        let files = try BronzeFixtures.writeParquetFiles([
            .init(partition: 0, first: 0, count: 300, day: 0),
            .init(partition: 0, first: 200, count: 150, day: 0),
            .init(partition: 1, first: 0, count: 100, day: 0),
        ], directory: directory)
        table = try await FastAppend(catalog: catalog).commit(table: table, files: files)
        let before = try await TableScan(table: table).planFiles().count

        // The duplicates are the second file's first 100 rows (its rows 100..<150 are offsets 300..<350, new).
        let deletes = try await PositionDeleteWriter.write(table: table, removing: Array(0..<100), from: files[1])
        XCTAssertEqual(deletes.content, .positionDeletes)
        XCTAssertEqual(deletes.recordCount, 100)
        table = try await FastAppend(catalog: catalog).commit(table: table, files: [], deleteFiles: [deletes])
        let summary = try XCTUnwrap(table.metadata.currentSnapshot?.summary)
        XCTAssertEqual(summary["operation"], "delete")
        XCTAssertEqual(summary["added-delete-files"], "1")
        XCTAssertEqual(summary["added-position-deletes"], "100")
        XCTAssertEqual(summary["total-position-deletes"], "100")
        XCTAssertEqual(summary["total-records"], "550", "total-records counts data file rows, as Java does")

        // Our scan: the delete file applies to the second file only; every offset once.
        let tasks = try await TableScan(table: table).planFiles()
        XCTAssertEqual(tasks.count, before)
        XCTAssertEqual(tasks.filter { !$0.deletes.isEmpty }.map(\.dataFile.filePath), [files[1].filePath])
        let reader = try ScanReader(table: table)
        var seen: [String: Int] = [:]
        for task in tasks {
            let columns = try await reader.read(task, columns: ["partition", "offset"])
            guard case .int32(let partitions) = columns[0].values, case .int64(let offsets) = columns[1].values else {
                return XCTFail("unexpected column types")
            }
            for (p, o) in zip(partitions, offsets) { seen["\(p)/\(o)", default: 0] += 1 }
        }
        XCTAssertEqual(seen.count, 450)
        XCTAssertEqual(seen.values.filter { $0 != 1 }.count, 0)

        // pyiceberg: 450 rows, each (partition, offset) once, raw bytes as written.
        let out = try BronzeFixtures.pyiceberg("""
            t = cat.load_table("market_data.bronze_binance_trades")
            a = t.scan().to_arrow()
            got = sorted(zip(a.column("partition").to_pylist(), a.column("offset").to_pylist(), a.column("raw_bytes").to_pylist()))
            want = sorted([(0, o, raw(0, o)) for o in range(0, 350)] + [(1, o, raw(1, o)) for o in range(0, 100)])
            assert got == want, (len(got), len(want))
            print(json.dumps({"rows": len(got), "metadata": t.metadata_location}))
            """, database: database, warehouse: warehouse)
        let json = try JSONValue.parse(out)
        XCTAssertEqual(json["rows"], .int(450))

        // duckdb's iceberg extension: each offset once.
        guard case .string(let metadata) = json["metadata"] else { return XCTFail("no metadata location") }
        let duck = try ProcessRunner.run(TestEnvironment.python, [
            TestEnvironment.repositoryRoot.appendingPathComponent("scripts/duckdb_iceberg_read.py").path,
            metadata, "--columns", "partition,offset"])
        XCTAssertEqual(duck.status, 0, duck.stderrText)
        let read = try JSONValue.parse(duck.stdoutText)
        XCTAssertEqual(read["rows"], .int(450))
        guard case .array(let partitions) = read["partitions"] else { return XCTFail("no partitions: \(duck.stdoutText)") }
        XCTAssertEqual(partitions.count, 2)
        for partition in partitions { XCTAssertEqual(partition["duplicates"], .array([]), "\(partition)") }
    }
}
