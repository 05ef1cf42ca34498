@testable import Bronze
import Foundation
import Iceberg
import K2Core
import Kafka
import Parity
import ParitySides
import SegmentLog
import TestSupport
import XCTest

/// `BronzeDuplicateRemoval` on Spark- and Flink-style tables holding ranges written twice (a rerun without
/// its checkpoint, each rerun row carrying a later ingestion time): afterwards our scan, pyiceberg, duckdb
/// and Spark (Java Iceberg) read every offset once, the row kept is the original, every other row is as it
/// was, `ParityCheck` against the source log reports parity with healthy tables, and a rerun commits nothing.
final class DuplicateRemovalTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = try TestEnvironment.temporaryDirectory("dedup")
    }

    override func tearDownWithError() throws {
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Offsets per Kafka partition in the source (and, once each, in a table without duplicates).
    static let counts: [Int32: Int64] = [0: 350, 1: 200, 2: 50]
    static let removedPerPartition: [Int32: Int64] = [0: 100, 1: 200, 2: 10]
    static let duplicateOffsets: [Int32: [ClosedRange<Int64>]] = [0: [200...299], 1: [0...199], 2: [40...49]]

    /// The original writes, then the rerun's: partition 0 offsets 200-299 again (with new 300-349) in a later
    /// file, partition 1 entirely again, and partition 2 offsets 40-49 twice within one file. Returns the
    /// files that should lose rows, by path.
    @discardableResult
    func writeDuplicated(_ tables: StyledBronzeTables, _ id: TableIdentifier) async throws -> [String: Int64] {
        try await tables.append(id, rows: (0..<300).map { (0, $0, 0) })
        try await tables.append(id, rows: (0..<200).map { (1, $0, 0) })
        let within = try await tables.append(id, rows: (0..<50).map { (2, $0, 0) } + (40..<50).map { (2, $0, 1) })
        let overlap = try await tables.append(id, rows: (200..<350).map { (0, $0, 1) })
        let again = try await tables.append(id, rows: (0..<200).map { (1, $0, 1) })
        return [within.filePath: 10, overlap.filePath: 100, again.filePath: 200]
    }

    /// The rows a table without duplicates holds: each offset once, as first written.
    static var expectedRows: [String] {
        counts.flatMap { partition, count in
            (0..<count).map { StyledBronzeTables.rowText(partition: partition, offset: $0, write: partition == 0 && $0 >= 300 ? 1 : 0) }
        }.sorted()
    }

    func writeLog() throws -> String {
        let path = directory.appendingPathComponent("log").path
        let writer = try SegmentLogWriter(directory: path) { _ in }
        for (partition, count) in Self.counts.sorted(by: { $0.key < $1.key }) {
            for offset in 0..<count {
                try writer.append(LogRecord(
                    receiveTimeNanos: 1_800_000_000_000_000_000 + offset, source: "kafka:\(BronzeTableFixture.topic)",
                    stream: String(partition), payload: BronzeTableFixture.payload(partition: partition, offset: offset),
                    kafka: KafkaCoordinates(partition: partition, offset: offset,
                                            timestampMs: BronzeTableFixture.timestampMicros(offset: offset) / 1000,
                                            timestampType: 1, key: nil)))
            }
        }
        try writer.close()
        return path
    }

    func check(_ left: ParitySide, _ right: ParitySide, catalog: any Catalog) async throws -> ParityReport {
        try await ParityCheck(configuration: ParityCheckConfiguration(left: left, right: right, comparePayload: true), catalog: catalog)
            .run(cancellation: CancellationSignal(), diagnostics: { XCTFail("unexpected diagnostic: \($0)") })
    }

    func removal(_ tables: StyledBronzeTables, _ id: TableIdentifier, scope: BronzeDuplicateScope? = nil, dryRun: Bool = false,
                 diagnostics: @escaping @Sendable (String) -> Void = { XCTFail("unexpected diagnostic: \($0)") }) async throws -> BronzeDuplicateRemovalResult {
        try await BronzeDuplicateRemoval(catalog: tables.catalog, table: id, scope: scope, dryRun: dryRun)
            .run(cancellation: CancellationSignal(), diagnostics: diagnostics)
    }

    func testRemovedDuplicatesReadOnceByEveryReaderAndParityHolds() async throws {
        let tables = try await StyledBronzeTables(directory: directory)
        let log = try writeLog()
        let ids = [try await tables.create(.spark), try await tables.create(.flink)]
        var affected: [TableIdentifier: [String: Int64]] = [:]
        var before: [TableIdentifier: [String]] = [:]
        var dataFiles: [TableIdentifier: Set<String>] = [:]
        for id in ids {
            affected[id] = try await writeDuplicated(tables, id)
            before[id] = try await tables.rows(id)
            XCTAssertEqual(before[id]?.count, Self.expectedRows.count + 310, "\(id)")
            let table = try await tables.catalog.loadTable(id)
            dataFiles[id] = Set(try await TableScan(table: table).planFiles().map(\.dataFile.filePath))
            let report = try await check(.table(id), .log(directory: log), catalog: tables.catalog)
            XCTAssertFalse(report.parity, "\(id)")
            XCTAssertEqual(report.summary.duplicateRowsLeft, 310, "\(id)")
        }
        // A table without duplicates gets no snapshot.
        let clean = try await tables.create(.spark, suffix: "_clean")
        for (partition, count) in Self.counts { try await tables.append(clean, rows: (0..<count).map { (partition, $0, 0) }) }
        let cleanSnapshots = try await tables.catalog.loadTable(clean).metadata.snapshots.count
        let nothing = try await removal(tables, clean)
        XCTAssertEqual(nothing.totalRowsRemoved, 0)
        XCTAssertNil(nothing.snapshotId)
        XCTAssertEqual(nothing.rowsScanned, Self.counts.values.reduce(0, +))
        let cleanAfter = try await tables.catalog.loadTable(clean).metadata.snapshots.count
        XCTAssertEqual(cleanAfter, cleanSnapshots)

        for id in ids {
            let snapshotsBefore = try await tables.catalog.loadTable(id).metadata.snapshots
            // The dry run says what would go and changes nothing.
            let dry = try await removal(tables, id, dryRun: true)
            XCTAssertTrue(dry.dryRun)
            XCTAssertNil(dry.snapshotId)
            XCTAssertEqual(dry.deleteFiles, [])
            XCTAssertEqual(dry.rowsRemoved, Self.removedPerPartition, "\(id)")
            XCTAssertEqual(dry.duplicateOffsets, Self.duplicateOffsets, "\(id)")
            XCTAssertEqual(Dictionary(uniqueKeysWithValues: dry.affectedFiles.map { ($0.dataFile, $0.rowsRemoved) }), affected[id], "\(id)")
            XCTAssertEqual(dry.rowsScanned, Int64(Self.expectedRows.count + 310))
            let afterDry = try await tables.catalog.loadTable(id).metadata.snapshots
            XCTAssertEqual(afterDry.map(\.snapshotId), snapshotsBefore.map(\.snapshotId), "a dry run commits nothing")

            // The removal: one delete snapshot with one position delete file per affected data file.
            let result = try await removal(tables, id)
            XCTAssertEqual(result.rowsRemoved, Self.removedPerPartition, "\(id)")
            XCTAssertEqual(result.totalRowsRemoved, 310)
            XCTAssertEqual(result.deleteFiles.count, 3)
            let table = try await tables.catalog.loadTable(id)
            XCTAssertEqual(table.metadata.snapshots.count, snapshotsBefore.count + 1)
            let snapshot = try XCTUnwrap(table.metadata.currentSnapshot)
            XCTAssertEqual(result.snapshotId, snapshot.snapshotId)
            XCTAssertEqual(result.scannedSnapshotId, snapshotsBefore.last?.snapshotId)
            XCTAssertEqual(snapshot.summary["operation"], "delete")
            XCTAssertEqual(snapshot.summary["added-delete-files"], "3")
            XCTAssertEqual(snapshot.summary["added-position-deletes"], "310")
            XCTAssertEqual(snapshot.summary[BronzeDuplicateRemoval.rowsRemovedKey], "310")
            XCTAssertEqual(snapshot.summary[BronzeDuplicateRemoval.partitionsKey], "0:100,1:200,2:10")
            XCTAssertNil(snapshot.summary["added-data-files"])
            // The data files are the same ones, and each delete file applies to its own data file alone.
            let tasks = try await TableScan(table: table).planFiles()
            XCTAssertEqual(Set(tasks.map(\.dataFile.filePath)), dataFiles[id])
            var deletedPerFile: [String: Int64] = [:]
            for task in tasks where !task.deletes.isEmpty {
                XCTAssertEqual(task.deletes.count, 1, task.dataFile.filePath)
                // A v2 manifest has no referenced_data_file: equal file_path bounds name the one data file.
                let pathId = Int(PositionDeleteWriter.filePathFieldId)
                XCTAssertEqual(task.deletes.first?.file.lowerBounds[pathId], Array(task.dataFile.filePath.utf8))
                XCTAssertEqual(task.deletes.first?.file.upperBounds[pathId], Array(task.dataFile.filePath.utf8))
                deletedPerFile[task.dataFile.filePath] = task.deletes.first?.file.recordCount
            }
            XCTAssertEqual(deletedPerFile, affected[id], "\(id)")

            // Our scan: each offset once, the original row kept, every other row as it was.
            let after = try await tables.rows(id)
            XCTAssertEqual(after, Self.expectedRows, "\(id)")
            XCTAssertTrue(Set(after).isSubset(of: Set(before[id] ?? [])))

            // A rerun finds nothing and commits nothing.
            let rerun = try await removal(tables, id)
            XCTAssertEqual(rerun.totalRowsRemoved, 0)
            XCTAssertNil(rerun.snapshotId)
            XCTAssertEqual(rerun.affectedFiles, [])
            let afterRerun = try await tables.catalog.loadTable(id).metadata.snapshots.count
            XCTAssertEqual(afterRerun, snapshotsBefore.count + 1)

            // Parity with the source log, payloads compared, and a healthy table: the delete files are
            // counted as information (delete_files, rows_deleted), not as a problem.
            let report = try await check(.table(id), .log(directory: log), catalog: tables.catalog)
            XCTAssertTrue(report.parity, "\(id): \(report.summary.problems)")
            XCTAssertEqual(report.summary.duplicateRowsLeft, 0)
            let health = try XCTUnwrap(report.health.left)
            XCTAssertEqual(health.problems, [], "\(id)")
            XCTAssertEqual(health.deleteFiles, 3)
            XCTAssertEqual(health.rowsDeleted, 310)
            XCTAssertEqual(health.rowsRead, Int64(Self.expectedRows.count))
            XCTAssertEqual(health.totalRecordsMatch, true)
        }
        let styles = try await check(.table(ids[0]), .table(ids[1]), catalog: tables.catalog)
        XCTAssertTrue(styles.parity, "\(styles.summary.problems)")

        try assertPyicebergAndDuckdbReadEachOffsetOnce(tables, ids)
        try assertSparkReadsEachOffsetOnce(tables, ids)
    }

    /// pyiceberg reads the rows (compared whole), duckdb each offset once with the expected payloads.
    func assertPyicebergAndDuckdbReadEachOffsetOnce(_ tables: StyledBronzeTables, _ ids: [TableIdentifier]) throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        let read = try ProcessRunner.python("""
            import sys, json, pyarrow as pa
            from pyiceberg.catalog.sql import SqlCatalog
            cat = SqlCatalog("k2", uri="sqlite:///" + sys.argv[1], warehouse=sys.argv[2])
            out = {}
            for name in sys.argv[3:]:
                t = cat.load_table(name)
                a = t.scan().to_arrow()
                col = lambda c, ty=None: (a.column(c).cast(ty) if ty else a.column(c)).to_pylist()
                rows = zip(col("partition"), col("offset"), col("raw_bytes"), col("topic"), col("kafka_timestamp", pa.int64()),
                           col("ingestion_timestamp", pa.int64()), col("ingestion_date", pa.int32()))
                out[name] = {"metadata": t.metadata_location,
                             "rows": sorted("|".join([str(p), str(o), r.hex(), tp, str(k), str(i), str(d)]) for p, o, r, tp, k, i, d in rows)}
            print(json.dumps(out))
            """, [tables.database, "file://" + tables.warehouse] + ids.map(\.description))
        XCTAssertEqual(read.status, 0, read.stderrText)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data((read.stdoutText.split(separator: "\n").last ?? "").utf8)) as? [String: [String: Any]])
        // duckdb's digest of the rows: SHA-256 over "partition\toffset\tpayload hex\n", sorted.
        let lines = Self.counts.sorted { $0.key < $1.key }.flatMap { partition, count in
            (0..<count).map { "\(partition)\t\($0)\t\(BronzeTableFixture.payload(partition: partition, offset: $0).map { String(format: "%02x", $0) }.joined())\n" }
        }.joined()
        let digest = try ProcessRunner.python("import sys, hashlib; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())", [],
                                              stdin: Data(lines.utf8))
        let expectedDigest = digest.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
        for id in ids {
            let table = try XCTUnwrap(json[id.description], "pyiceberg did not read \(id)")
            XCTAssertEqual(table["rows"] as? [String], Self.expectedRows, "pyiceberg: \(id)")
            let metadata = try XCTUnwrap(table["metadata"] as? String)
            let duck = try ProcessRunner.run(TestEnvironment.python, [
                TestEnvironment.repositoryRoot.appendingPathComponent("scripts/duckdb_iceberg_read.py").path,
                metadata, "--columns", "partition,offset,raw_bytes"])
            XCTAssertEqual(duck.status, 0, duck.stderrText)
            let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: duck.stdout) as? [String: Any])
            XCTAssertEqual(facts["rows"] as? Int, Self.expectedRows.count, "duckdb: \(id)")
            XCTAssertEqual(facts["sha256"] as? String, expectedDigest, "duckdb: \(id)")
            let partitions = facts["partitions"] as? [[String: Any]] ?? []
            XCTAssertEqual(partitions.map { $0["partition"] as? Int }, [0, 1, 2], "duckdb: \(id)")
            for partition in partitions {
                XCTAssertEqual((partition["duplicates"] as? [Any])?.count, 0, "duckdb: \(id) \(partition)")
                let number = Int32(partition["partition"] as? Int ?? -1)
                XCTAssertEqual(partition["offsets"] as? [[Int]], [[0, Int(Self.counts[number] ?? 0) - 1]], "duckdb: \(id)")
            }
        }
    }

    /// Java Iceberg on Spark applies the position deletes: each offset once, the rows compared whole.
    func assertSparkReadsEachOffsetOnce(_ tables: StyledBronzeTables, _ ids: [TableIdentifier]) throws {
        try XCTSkipUnless(SparkPeer.isAvailable, "Spark peer venv missing (run scripts/setup-spark.sh)")
        let catalog = SparkPeer.catalog(uri: "jdbc:sqlite:" + tables.database, warehouse: tables.warehouse)
        let expected = Dictionary(uniqueKeysWithValues: Self.counts.map { (String($0.key), [0, Int($0.value) - 1]) })
        var steps: [[String: Any]] = ids.map { ["op": "facts", "table": $0.name, "topic": BronzeTableFixture.topic, "expected": expected] }
        steps += ids.map { ["op": "sql", "limit": 100_000, "statement": """
            SELECT partition, offset, lower(hex(raw_bytes)) AS raw, topic, unix_micros(CAST(kafka_timestamp AS TIMESTAMP)) AS ts,
                   unix_micros(CAST(ingestion_timestamp AS TIMESTAMP)) AS it, datediff(ingestion_date, DATE'1970-01-01') AS d
            FROM k2.\($0.description)
            """] }
        let run = try SparkPeer.run(catalog: catalog, steps: steps)
        for (index, id) in ids.enumerated() {
            let facts = SparkFacts(run.result(index))
            XCTAssertEqual(facts.totalRows, Self.expectedRows.count, "Spark: \(id)")
            XCTAssertEqual(facts.positionDeleteFiles, 3, "Spark: \(id)")
            for (partition, count) in Self.counts {
                let p = facts.partitions[Int(partition)]
                XCTAssertEqual(p?.rows, Int(count), "Spark: \(id) partition \(partition)")
                XCTAssertEqual(p?.distinctOffsets, Int(count), "Spark: \(id) partition \(partition)")
                XCTAssertEqual(p?.duplicates, [], "Spark: \(id) partition \(partition)")
                XCTAssertEqual(p?.missing, [], "Spark: \(id) partition \(partition)")
            }
            let rows = (run.result(ids.count + index)["rows"] as? [[String: Any]] ?? []).map { row in
                ["partition", "offset", "raw", "topic", "ts", "it", "d"].map { "\(row[$0] ?? "null")" }.joined(separator: "|")
            }
            XCTAssertEqual(rows.sorted(), Self.expectedRows, "Spark: \(id)")
        }
    }

    /// A scope limits what is looked at and removed; the rest is found by a later run. Small row groups, and
    /// a later run's duplicates behind rows an earlier one deleted, check the positions named.
    func testScopeLimitsTheRemovalAndLaterRunsFinishIt() async throws {
        let tables = try await StyledBronzeTables(directory: directory)
        let id = try await tables.create(.flink, properties: ["write.parquet.row-group-size-bytes": "1024"])
        let affected = try await writeDuplicated(tables, id)
        let written = try await TableScan(table: try await tables.catalog.loadTable(id)).planFiles()
        XCTAssertTrue(written.filter { affected[$0.dataFile.filePath] != nil }.allSatisfy { ($0.dataFile.splitOffsets?.count ?? 0) > 1 },
                      "the affected files have several row groups")
        let first = try await removal(tables, id, scope: BronzeDuplicateScope(wholePartitions: [1]))
        XCTAssertEqual(first.rowsRemoved, [1: 200])
        XCTAssertEqual(first.rowsScanned, 400)
        XCTAssertNotNil(first.snapshotId)
        // 200-237 of the rerun's file go first: its second row group (offsets 225-249) keeps 238-249.
        let second = try await removal(tables, id, scope: BronzeDuplicateScope(partitions: [0: [200...237, 500...600]]))
        XCTAssertEqual(second.rowsRemoved, [0: 38])
        XCTAssertEqual(second.duplicateOffsets, [0: [200...237]])
        let last = try await removal(tables, id)
        XCTAssertEqual(last.rowsRemoved, [0: 62, 2: 10])
        XCTAssertEqual(last.duplicateOffsets, [0: [238...299], 2: [40...49]])
        let empty = try await removal(tables, id, scope: BronzeDuplicateScope(partitions: [:]))
        XCTAssertNil(empty.snapshotId)
        let rows = try await tables.rows(id)
        XCTAssertEqual(rows, Self.expectedRows)
        let table = try await tables.catalog.loadTable(id)
        XCTAssertEqual(table.metadata.snapshots.filter { $0.summary["operation"] == "delete" }.count, 3)
    }

    /// A removal cancelled before it commits commits nothing; one killed after writing its delete files and
    /// before the commit leaves them unreferenced (written here as that run would have), so the table reads
    /// as before and the next run removes every duplicate in one snapshot without them.
    func testNothingIsCommittedBeforeTheCommitAndOrphansAreIgnored() async throws {
        let tables = try await StyledBronzeTables(directory: directory)
        let id = try await tables.create(.spark)
        let affected = try await writeDuplicated(tables, id)
        let before = try await tables.rows(id)
        let cancelled = CancellationSignal()
        cancelled.cancel()
        do {
            _ = try await BronzeDuplicateRemoval(catalog: tables.catalog, table: id)
                .run(cancellation: cancelled, diagnostics: { XCTFail("unexpected diagnostic: \($0)") })
            XCTFail("a cancelled removal ran")
        } catch is CancellationError {}
        var table = try await tables.catalog.loadTable(id)
        XCTAssertEqual(table.metadata.snapshots.count, 5)

        let tasks = try await TableScan(table: table).planFiles()
        let overlap = try XCTUnwrap(tasks.first { affected[$0.dataFile.filePath] == 100 })
        let orphan = try await PositionDeleteWriter.write(table: table, removing: Array(0..<100), from: overlap.dataFile)
        let unchanged = try await tables.rows(id)
        XCTAssertEqual(unchanged, before, "an uncommitted delete file changes nothing")

        let result = try await removal(tables, id)
        XCTAssertEqual(result.totalRowsRemoved, 310)
        XCTAssertFalse(result.deleteFiles.contains(orphan.filePath))
        table = try await tables.catalog.loadTable(id)
        XCTAssertEqual(table.metadata.snapshots.count, 6)
        let live = try await TableScan(table: table).planFiles().flatMap { $0.deletes.map(\.file.filePath) }
        XCTAssertEqual(Set(live), Set(result.deleteFiles))
        let rows = try await tables.rows(id)
        XCTAssertEqual(rows, Self.expectedRows)
    }

    /// Delete files in the table's data directories (committed or not).
    func deleteFilesOnDisk(_ tables: StyledBronzeTables, _ id: TableIdentifier) -> Set<String> {
        let root = tables.warehouse + "/market_data/" + id.name + "/data"
        let names = (FileManager.default.enumerator(atPath: root)?.allObjects as? [String]) ?? []
        return Set(names.filter { $0.hasSuffix("-deletes.parquet") }.map { "file://" + root + "/" + $0 })
    }

    /// Another writer commits just before the removal does. An append is committed over (its rows come
    /// later in the keep-one rule; its own duplicates go in the next run); a delete makes the removal drop
    /// its delete files and find the duplicates again.
    func testACommitJustBeforeOursIsRetriedOverOrPlannedAgain() async throws {
        let tables = try await StyledBronzeTables(directory: directory)
        let appended = try await tables.create(.spark)
        try await writeDuplicated(tables, appended)
        let rerunCopies = InterposedCatalog(base: tables.catalog) { _ in
            try await tables.append(appended, rows: (0..<10).map { (1, $0, 2) })
        }
        let first = try await BronzeDuplicateRemoval(catalog: rerunCopies, table: appended)
            .run(cancellation: CancellationSignal(), diagnostics: { XCTFail("unexpected diagnostic: \($0)") })
        XCTAssertEqual(first.totalRowsRemoved, 310)
        var table = try await tables.catalog.loadTable(appended)
        XCTAssertEqual(table.metadata.currentSnapshot?.snapshotId, first.snapshotId)
        XCTAssertEqual(table.metadata.currentSnapshot?.summary["operation"], "delete")
        let withCopies = try await tables.rows(appended)
        XCTAssertEqual(withCopies, (Self.expectedRows + (0..<10).map { StyledBronzeTables.rowText(partition: 1, offset: $0, write: 2) }).sorted())
        let second = try await removal(tables, appended)
        XCTAssertEqual(second.rowsRemoved, [1: 10])
        let rows = try await tables.rows(appended)
        XCTAssertEqual(rows, Self.expectedRows)

        let deleted = try await tables.create(.spark, suffix: "_deleted")
        try await writeDuplicated(tables, deleted)
        table = try await tables.catalog.loadTable(deleted)
        let tasks = try await TableScan(table: table).planFiles()
        let original = try XCTUnwrap(tasks.min { ($0.sequenceNumber ?? 0) < ($1.sequenceNumber ?? 0) })
        // Someone deletes partition 0 offset 0 (the first row of the first file) meanwhile.
        let theirs = try await PositionDeleteWriter.write(table: table, removing: [0], from: original.dataFile)
        let concurrentDelete = InterposedCatalog(base: tables.catalog) { catalog in
            let current = try await catalog.loadTable(deleted)
            _ = try await FastAppend(catalog: catalog).commit(table: current, files: [], deleteFiles: [theirs])
        }
        let notes = NotesBox()
        let result = try await BronzeDuplicateRemoval(catalog: concurrentDelete, table: deleted)
            .run(cancellation: CancellationSignal(), diagnostics: { notes.add($0) })
        XCTAssertEqual(result.totalRowsRemoved, 310)
        XCTAssertEqual(notes.all.count, 1, "\(notes.all)")
        XCTAssertTrue(notes.all.first?.hasSuffix("finding the duplicates again") ?? false, "\(notes.all)")
        table = try await tables.catalog.loadTable(deleted)
        XCTAssertEqual(table.metadata.snapshots.count, 7)
        // The first attempt's delete files are gone; theirs and ours are what is on disk.
        XCTAssertEqual(deleteFilesOnDisk(tables, deleted), Set([theirs.filePath] + result.deleteFiles))
        let afterBoth = try await tables.rows(deleted)
        XCTAssertEqual(afterBoth, Self.expectedRows.filter { $0 != StyledBronzeTables.rowText(partition: 0, offset: 0, write: 0) })
    }

    /// A removal that dies at its commit (the failure stands in for SIGKILL there: nothing reaches the
    /// catalog) leaves its delete files as orphans and the table as it was; the next run does the work.
    func testARemovalThatDiesAtItsCommitLeavesOnlyOrphans() async throws {
        let tables = try await StyledBronzeTables(directory: directory)
        let id = try await tables.create(.flink)
        try await writeDuplicated(tables, id)
        let before = try await tables.rows(id)
        struct Died: Error {}
        let dying = InterposedCatalog(base: tables.catalog) { _ in throw Died() }
        do {
            _ = try await BronzeDuplicateRemoval(catalog: dying, table: id)
                .run(cancellation: CancellationSignal(), diagnostics: { XCTFail("unexpected diagnostic: \($0)") })
            XCTFail("the commit did not fail")
        } catch is Died {}
        let orphans = deleteFilesOnDisk(tables, id)
        XCTAssertEqual(orphans.count, 3)
        var table = try await tables.catalog.loadTable(id)
        XCTAssertEqual(table.metadata.snapshots.count, 5)
        let unchanged = try await tables.rows(id)
        XCTAssertEqual(unchanged, before)

        let result = try await removal(tables, id)
        XCTAssertEqual(result.totalRowsRemoved, 310)
        XCTAssertTrue(orphans.isDisjoint(with: result.deleteFiles))
        table = try await tables.catalog.loadTable(id)
        XCTAssertEqual(table.metadata.snapshots.count, 6)
        let rows = try await tables.rows(id)
        XCTAssertEqual(rows, Self.expectedRows)
    }

    /// Two removals at once remove each duplicate once: the one that commits second finds the table changed
    /// under it, finds the duplicates again, and there are none left.
    func testConcurrentRemovalsCommitOneDeleteSnapshot() async throws {
        let tables = try await StyledBronzeTables(directory: directory)
        let id = try await tables.create(.spark)
        try await writeDuplicated(tables, id)
        // The one that loses the race (if they overlap at all) says it plans again, and nothing else.
        let retry: @Sendable (String) -> Void = { note in
            XCTAssertTrue(note.contains("(delete) was committed after snapshot") && note.hasSuffix("finding the duplicates again"), note)
        }
        async let a = removal(tables, id, diagnostics: retry)
        async let b = removal(tables, id, diagnostics: retry)
        let results = try await [a, b]
        XCTAssertEqual(results.map(\.totalRowsRemoved).reduce(0, +), 310)
        XCTAssertEqual(results.compactMap(\.snapshotId).count, 1)
        let table = try await tables.catalog.loadTable(id)
        XCTAssertEqual(table.metadata.snapshots.filter { $0.summary["operation"] == "delete" }.count, 1)
        let rows = try await tables.rows(id)
        XCTAssertEqual(rows, Self.expectedRows)
    }

    /// Appends committed after the scan leave the chosen rows right; any other operation makes the
    /// removal plan again.
    func testOnlyAppendsSinceTheScanAreCommittedOver() async throws {
        let tables = try await StyledBronzeTables(directory: directory)
        let id = try await tables.create(.spark)
        try await tables.append(id, rows: (0..<10).map { (0, $0, 0) })
        let loaded = try await tables.catalog.loadTable(id)
        let base = try XCTUnwrap(loaded.metadata.currentSnapshot?.snapshotId)
        let file = try await tables.append(id, rows: (0..<10).map { (0, $0, 1) })
        var table = try await tables.catalog.loadTable(id)
        XCTAssertNoThrow(try BronzeDuplicateRemoval.checkOnlyAppends(since: base, in: table))
        let deletes = try await PositionDeleteWriter.write(table: table, removing: [0], from: file)
        table = try await FastAppend(catalog: tables.catalog).commit(table: table, files: [], deleteFiles: [deletes])
        XCTAssertThrowsError(try BronzeDuplicateRemoval.checkOnlyAppends(since: base, in: table)) { error in
            XCTAssertTrue(error is BronzeDuplicateRemoval.ConcurrentRowChange, "\(error)")
        }
        XCTAssertThrowsError(try BronzeDuplicateRemoval.checkOnlyAppends(since: 12345, in: table))
    }
}

