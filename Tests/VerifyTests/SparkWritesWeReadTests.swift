import K2Core
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import TestSupport
import XCTest

/// Spark writes, we read: Java Iceberg 1.10 on Spark 3.5 (`scripts/spark_peer.py`) writes K2's Spark Bronze
/// table (Structured Streaming micro-batches over three ingestion days, then a merge-on-read DELETE and UPDATE:
/// position deletes) and a Flink-style table (Java API: an equality delete, a later re-append of some of the
/// deleted offsets, a position delete), each with planted gaps and duplicates. `k2-verify` must report, per
/// partition, exactly what Spark itself reads from the two tables (its `facts`), and read the tables' health
/// (delete files, rows deleted, total-records, commit markers) as Spark's metadata tables state it.
/// One Spark session per catalog kind: JDBC on SQLite, and JDBC on PostgreSQL.
final class SparkWritesWeReadTests: XCTestCase {
    static let topic = "binance.trades"
    static let offsets = 0...199
    static let partitions = [0, 1, 2]
    static let days = ["2024-02-09", "2024-02-10", "2024-02-11"]
    static let defectTables = (left: "spark_bronze", right: "flink_bronze")
    static let cleanTables = (left: "spark_clean", right: "flink_clean")

    /// Planted defects, [partition, first, last]: each feeds a step of the scenario.
    static let sparkSkipped = [0, 50, 59]
    static let sparkDuplicated = [1, 100, 104]
    static let sparkDeleted = [2, 10, 19]
    static let sparkUpdated = [2, 150, 154]
    static let flinkSkipped = [1, 150, 169]
    static let flinkDuplicated = [2, 30, 34]
    static let flinkEqualityDeleted = [0, 180, 189]
    static let flinkReappended = [0, 185, 189]
    static let flinkPositionDeleted = [1, 0, 4]

    static func ranges(_ list: [[Int]]) -> [[String: Int]] {
        list.map { ["partition": $0[0], "first": $0[1], "last": $0[2]] }
    }

    static var allPartitions: [[String: Int]] {
        partitions.map { ["partition": $0, "first": offsets.lowerBound, "last": offsets.upperBound] }
    }

    static var expectedRanges: [String: [Int]] {
        Dictionary(uniqueKeysWithValues: partitions.map { (String($0), [offsets.lowerBound, offsets.upperBound]) })
    }

    /// Indices of the steps whose results the checks use.
    struct Steps {
        var list: [[String: Any]] = []
        var index: [String: Int] = [:]
        mutating func add(_ step: [String: Any], as name: String? = nil) {
            if let name { index[name] = list.count }
            list.append(step)
        }
    }

    static func scenario() -> Steps {
        var steps = Steps()
        let (left, right) = defectTables
        let sqlLeft = "k2.market_data.\(left)"
        // K2's Spark Bronze table, written by a Structured Streaming query, then DELETE and UPDATE (merge-on-read).
        steps.add(["op": "create_spark_bronze", "table": left,
                   "properties": ["write.delete.mode": "merge-on-read", "write.update.mode": "merge-on-read"]])
        steps.add(["op": "append_spark_rows", "table": left, "topic": topic, "partitions": allPartitions, "commits": 3,
                   "days": days, "skip": ranges([sparkSkipped]), "duplicate": ranges([sparkDuplicated])], as: "spark_append")
        steps.add(["op": "sql", "statement": "DELETE FROM \(sqlLeft) WHERE partition = \(sparkDeleted[0]) AND offset BETWEEN \(sparkDeleted[1]) AND \(sparkDeleted[2])"])
        steps.add(["op": "sql", "statement": "UPDATE \(sqlLeft) SET raw_bytes = concat(raw_bytes, X'FF') WHERE partition = \(sparkUpdated[0]) AND offset BETWEEN \(sparkUpdated[1]) AND \(sparkUpdated[2])"])
        // A Flink-style table by the Java API: an equality delete, offsets re-appended after it (a higher data
        // sequence number: they stay), and a position delete.
        steps.add(["op": "create_flink_style", "table": right])
        steps.add(["op": "append_flink_rows", "table": right, "topic": topic, "partitions": allPartitions, "commits": 3,
                   "days": days, "skip": ranges([flinkSkipped]), "duplicate": ranges([flinkDuplicated])], as: "flink_append")
        steps.add(["op": "equality_delete", "table": right, "ranges": ranges([flinkEqualityDeleted])], as: "equality_delete")
        steps.add(["op": "append_flink_rows", "table": right, "topic": topic, "partitions": ranges([flinkReappended]),
                   "commits": 1, "days": [days.last!]], as: "flink_reappend")
        steps.add(["op": "position_delete_java", "table": right, "ranges": ranges([flinkPositionDeleted])], as: "position_delete")
        // The clean pair: the same records, no defects, no deletes.
        steps.add(["op": "create_spark_bronze", "table": cleanTables.left])
        steps.add(["op": "append_spark_rows", "table": cleanTables.left, "topic": topic, "partitions": allPartitions,
                   "commits": 1, "days": days])
        steps.add(["op": "create_flink_style", "table": cleanTables.right])
        steps.add(["op": "append_flink_rows", "table": cleanTables.right, "topic": topic, "partitions": allPartitions,
                   "commits": 2, "days": days])
        for table in [left, right, cleanTables.left, cleanTables.right] {
            steps.add(["op": "facts", "table": table, "topic": topic, "expected": expectedRanges], as: "facts " + table)
            steps.add(["op": "sql", "statement": "SELECT sum(record_count) AS n FROM k2.market_data.\(table).data_files"], as: "records " + table)
        }
        return steps
    }

    struct Verified {
        let status: Int32
        let json: [String: Any]
        let result: ProcessResult
    }

    func verify(catalog: String, left: String, right: String, environment: [String: String]? = nil) throws -> Verified {
        let result = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"),
                                           ["--catalog", catalog, "--left", "market_data." + left, "--right", "market_data." + right,
                                            "--payload", "--json"], environment: environment)
        let json = try XCTUnwrap(try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any],
                                 "k2-verify printed no JSON (exit \(result.status)): \(result.stderrText)")
        return Verified(status: result.status, json: json, result: result)
    }

    // MARK: - The tests

    func testSparkAndJavaWrittenTablesOnSQLiteCatalog() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        try XCTSkipUnless(SparkPeer.isAvailable, "Spark peer venv missing (run scripts/setup-spark.sh)")
        let directory = try TestEnvironment.temporaryDirectory("k2-verify-spark-peer")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("catalog.db").path
        let steps = Self.scenario()
        let run = try SparkPeer.run(catalog: SparkPeer.catalog(uri: "jdbc:sqlite:" + database,
                                                               warehouse: directory.appendingPathComponent("warehouse").path),
                                    steps: steps.list)

        // k2-verify reads the catalog Java wrote, and leaves its file byte for byte as it was.
        let before = try Data(contentsOf: URL(fileURLWithPath: database))
        try checkScenario(run, steps) { left, right in try self.verify(catalog: "sqlite:" + database, left: left, right: right) }
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: database)), before, "k2-verify changed the catalog file")
        for suffix in ["-wal", "-shm", "-journal"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: database + suffix), suffix)
        }

        // k2-replay appending into the Spark table keeps its position deletes in force: pyiceberg (which
        // applies them) still reads exactly Spark's rows of the topic, and the appended trades beside them.
        let log = directory.appendingPathComponent("log").path
        let generated = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), ["generate-log", "--out", log, "--trades", "200"])
        XCTAssertEqual(generated.status, 0, generated.stderrText)
        let appended = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), [
            "--from", log, "--to", "iceberg", "--catalog", "sqlite:" + database,
            "--warehouse", directory.appendingPathComponent("warehouse").path, "--table", "market_data." + Self.defectTables.left,
            "--style", "spark", "--source", "binance", "--schema-id", "1", "--quiet"])
        XCTAssertEqual(appended.status, 0, appended.stderrText)
        let read = try ProcessRunner.python("""
            import sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            t = SqlCatalog("k2", uri="sqlite:///" + sys.argv[1], warehouse="file://" + sys.argv[2]).load_table("market_data." + sys.argv[3])
            a = t.scan(selected_fields=("topic", "partition", "offset")).to_arrow()
            rows = {}
            other = 0
            for topic, p, o in zip(a.column("topic").to_pylist(), a.column("partition").to_pylist(), a.column("offset").to_pylist()):
                if topic == sys.argv[4]: rows.setdefault(str(p), []).append(o)
                else: other += 1
            print(json.dumps({"rows": {p: len(v) for p, v in rows.items()}, "offsets": {p: sorted(set(v)) for p, v in rows.items()}, "other": other}))
            """, [database, directory.appendingPathComponent("warehouse").path, Self.defectTables.left, Self.topic])
        XCTAssertEqual(read.status, 0, read.stderrText)
        let after = try XCTUnwrap(try JSONSerialization.jsonObject(with: read.stdout) as? [String: Any])
        let sparkFacts = SparkFacts(run.result(steps.index["facts " + Self.defectTables.left]!))
        for partition in Self.partitions {
            XCTAssertEqual((after["rows"] as? [String: Int])?[String(partition)], sparkFacts.partitions[partition]?.rows, "partition \(partition)")
        }
        let deleted = Set(Self.sparkDeleted[1]...Self.sparkDeleted[2])
        XCTAssertTrue(Set((after["offsets"] as? [String: [Int]])?[String(Self.sparkDeleted[0])] ?? []).isDisjoint(with: deleted),
                      "deleted offsets came back after k2-replay appended")
        XCTAssertEqual(after["other"] as? Int, 200, "the appended trades")
    }

    func testSparkAndJavaWrittenTablesOnPostgreSQLCatalog() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        try XCTSkipUnless(SparkPeer.isAvailable, "Spark peer venv missing (run scripts/setup-spark.sh)")
        try XCTSkipUnless(PostgreSQLTestServer.isAvailable, "PostgreSQL server binaries not installed (apt-get install postgresql)")
        let server = try PostgreSQLTestServer()
        defer { server.stop() }
        let directory = try TestEnvironment.temporaryDirectory("k2-verify-spark-peer-pg")
        defer { try? FileManager.default.removeItem(at: directory) }
        let steps = Self.scenario()
        let run = try SparkPeer.run(catalog: SparkPeer.catalog(uri: "jdbc:postgresql://127.0.0.1:\(server.port)/postgres",
                                                               warehouse: directory.appendingPathComponent("warehouse").path,
                                                               user: server.user, password: server.password),
                                    steps: steps.list)
        let tablesBefore = try server.psql("SELECT * FROM iceberg_tables ORDER BY table_name")
        XCTAssertTrue(tablesBefore.contains(Self.defectTables.left), tablesBefore)
        try checkScenario(run, steps) { left, right in
            try self.verify(catalog: "postgresql://\(server.user)@127.0.0.1:\(server.port)/postgres", left: left, right: right,
                            environment: ["PGPASSWORD": server.password])
        }
        XCTAssertEqual(try server.psql("SELECT * FROM iceberg_tables ORDER BY table_name"), tablesBefore, "k2-verify changed the catalog")
    }

    // MARK: - Expectations from Spark's facts

    func checkScenario(_ run: SparkPeer.Run, _ steps: Steps, verify: (String, String) throws -> Verified,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        func result(_ name: String) -> [String: Any] { run.result(steps.index[name]!) }
        func facts(_ table: String) -> SparkFacts { SparkFacts(result("facts " + table)) }
        func dataRecords(_ table: String) -> Int {
            ((result("records " + table)["rows"] as? [[String: Any]])?.first?["n"] as? NSNumber)?.intValue ?? -1
        }
        let (left, right) = Self.defectTables
        let leftFacts = facts(left), rightFacts = facts(right)

        // Spark reads what was planted (a sanity check of the peer, so a failure below is ours).
        XCTAssertEqual(leftFacts.positionDeleteFiles, 2, "DELETE and UPDATE: one position delete file each", file: file, line: line)
        XCTAssertEqual(rightFacts.equalityDeleteFiles, 1, file: file, line: line)
        XCTAssertEqual(rightFacts.positionDeleteFiles, 1, file: file, line: line)
        // The re-appended offsets survive the equality delete committed before them.
        XCTAssertEqual(rightFacts.partitions[0]?.missing, [[Self.flinkEqualityDeleted[1], Self.flinkReappended[1] - 1]], file: file, line: line)

        let defects = try verify(left, right)
        XCTAssertEqual(defects.status, 1, defects.result.stderrText, file: file, line: line)
        XCTAssertEqual(defects.json["parity"] as? Bool, false, file: file, line: line)
        checkPartitions(defects.json, leftFacts: leftFacts, rightFacts: rightFacts,
                        payloadMismatches: [Self.sparkUpdated[0]: Set(Self.sparkUpdated[1]...Self.sparkUpdated[2])], file: file, line: line)

        // Health, as Spark's metadata tables state it.
        let health = try XCTUnwrap(defects.json["health"] as? [String: Any], file: file, line: line)
        let leftHealth = try XCTUnwrap(health["left"] as? [String: Any], file: file, line: line)
        let rightHealth = try XCTUnwrap(health["right"] as? [String: Any], file: file, line: line)
        for (side, sideFacts, table) in [(leftHealth, leftFacts, left), (rightHealth, rightFacts, right)] {
            let records = dataRecords(table)
            XCTAssertEqual(side["snapshot_id"] as? Int64, sideFacts.snapshotId, table, file: file, line: line)
            XCTAssertEqual(side["snapshots"] as? Int, sideFacts.snapshots, table, file: file, line: line)
            XCTAssertEqual(side["data_files"] as? Int, sideFacts.dataFiles, table, file: file, line: line)
            XCTAssertEqual(side["delete_files"] as? Int, sideFacts.positionDeleteFiles + sideFacts.equalityDeleteFiles, table, file: file, line: line)
            XCTAssertGreaterThan(side["delete_files"] as? Int ?? 0, 0, table, file: file, line: line)
            XCTAssertEqual(side["rows_read"] as? Int, sideFacts.totalRows, table, file: file, line: line)
            XCTAssertEqual(side["rows_deleted"] as? Int, records - sideFacts.totalRows, table, file: file, line: line)
            XCTAssertEqual(side["summary_total_records"] as? Int, records, table, file: file, line: line)
            XCTAssertEqual(side["total_records_match"] as? Bool, true, table, file: file, line: line)
            XCTAssertEqual(side["problems"] as? [String], [], table, file: file, line: line)
            XCTAssertEqual((side["duplicate_added_files"] as? [Any])?.count, 0, table, file: file, line: line)
        }
        let sides = defects.json["sides"] as? [String: Any]
        XCTAssertEqual((sides?["left"] as? [String: Any])?["snapshot_id"] as? Int64, leftFacts.snapshotId, file: file, line: line)
        XCTAssertEqual((sides?["right"] as? [String: Any])?["snapshot_id"] as? Int64, rightFacts.snapshotId, file: file, line: line)

        // Commit markers: the streaming query's last epoch (the DELETE and UPDATE after it carry none), and the
        // Flink job's last checkpoint (the position delete's commit).
        func markers(_ side: [String: Any]) -> [String: String] {
            Dictionary((side["commit_markers"] as? [[String: Any]] ?? []).map { ($0["key"] as? String ?? "", $0["value"] as? String ?? "") }) { a, _ in a }
        }
        let sparkAppend = result("spark_append")
        let epochs = (sparkAppend["commits"] as? [[String: Any]] ?? []).compactMap { ($0["epoch"] as? NSNumber)?.intValue }
        XCTAssertEqual(markers(leftHealth)["spark.sql.streaming.epochId"], epochs.max().map(String.init), file: file, line: line)
        XCTAssertEqual(markers(leftHealth)["spark.sql.streaming.queryId"], sparkAppend["query_id"] as? String, file: file, line: line)
        let checkpoint = (result("position_delete")["checkpoint"] as? NSNumber)?.intValue
        XCTAssertNotNil(checkpoint, file: file, line: line)
        XCTAssertEqual(markers(rightHealth)["flink.max-committed-checkpoint-id"], checkpoint.map(String.init), file: file, line: line)
        XCTAssertEqual(markers(rightHealth)["flink.job-id"], result("flink_append")["job_id"] as? String, file: file, line: line)

        // Totals: rows per side are Spark's, and one problem sentence per non-empty defect list.
        let summary = try XCTUnwrap(defects.json["summary"] as? [String: Any], file: file, line: line)
        XCTAssertEqual((summary["rows"] as? [String: Any])?["left"] as? Int, leftFacts.totalRows, file: file, line: line)
        XCTAssertEqual((summary["rows"] as? [String: Any])?["right"] as? Int, rightFacts.totalRows, file: file, line: line)

        // The clean pair: parity, exit 0, the rows Spark reads.
        let cleanLeft = facts(Self.cleanTables.left), cleanRight = facts(Self.cleanTables.right)
        let clean = try verify(Self.cleanTables.left, Self.cleanTables.right)
        XCTAssertEqual(clean.status, 0, clean.result.stderrText + clean.result.stdoutText, file: file, line: line)
        XCTAssertEqual(clean.json["parity"] as? Bool, true, file: file, line: line)
        checkPartitions(clean.json, leftFacts: cleanLeft, rightFacts: cleanRight, payloadMismatches: [:], file: file, line: line)
        let cleanHealth = clean.json["health"] as? [String: Any]
        for (key, table, sideFacts) in [("left", Self.cleanTables.left, cleanLeft), ("right", Self.cleanTables.right, cleanRight)] {
            let side = cleanHealth?[key] as? [String: Any]
            XCTAssertEqual(side?["delete_files"] as? Int, 0, table, file: file, line: line)
            XCTAssertEqual(side?["rows_deleted"] as? Int, 0, table, file: file, line: line)
            XCTAssertEqual(side?["rows_read"] as? Int, sideFacts.totalRows, table, file: file, line: line)
            XCTAssertEqual(side?["summary_total_records"] as? Int, dataRecords(table), table, file: file, line: line)
            XCTAssertEqual(side?["total_records_match"] as? Bool, true, table, file: file, line: line)
        }
        XCTAssertEqual(cleanLeft.totalRows, Self.partitions.count * Self.offsets.count, file: file, line: line)
    }

    /// Every partition of the report against the two facts: rows, distinct offsets, extent, missing ranges both
    /// ways (set differences of what each side holds), duplicates as Spark counts them, payload mismatches.
    func checkPartitions(_ json: [String: Any], leftFacts: SparkFacts, rightFacts: SparkFacts, payloadMismatches: [Int: Set<Int>],
                         file: StaticString = #filePath, line: UInt = #line) {
        let partitions = json["partitions"] as? [[String: Any]] ?? []
        XCTAssertEqual(Set(partitions.compactMap { $0["partition"] as? Int }), Set(Self.partitions), file: file, line: line)
        XCTAssertEqual(partitions.count, Self.partitions.count, file: file, line: line)
        var problems = 0, missingLeft = 0, missingRight = 0
        for number in Self.partitions {
            guard let report = partitions.first(where: { $0["partition"] as? Int == number }),
                  let l = leftFacts.partitions[number], let r = rightFacts.partitions[number] else {
                XCTFail("partition \(number) missing from the report or the facts", file: file, line: line)
                continue
            }
            let place = "partition \(number)"
            XCTAssertEqual(report["topic"] as? String, Self.topic, place, file: file, line: line)
            XCTAssertEqual(l.outsideExpected, 0, place, file: file, line: line)
            XCTAssertEqual(r.outsideExpected, 0, place, file: file, line: line)
            let heldLeft = l.held(Self.offsets), heldRight = r.held(Self.offsets)
            XCTAssertEqual(heldLeft.count, l.distinctOffsets, place, file: file, line: line)
            XCTAssertEqual(heldRight.count, r.distinctOffsets, place, file: file, line: line)
            for (key, sideFacts) in [("left", l), ("right", r)] {
                let side = report[key] as? [String: Any]
                XCTAssertEqual(side?["rows"] as? Int, sideFacts.rows, "\(place) \(key) rows", file: file, line: line)
                XCTAssertEqual(side?["distinct_offsets"] as? Int, sideFacts.distinctOffsets, "\(place) \(key) distinct", file: file, line: line)
                XCTAssertEqual(side?["min_offset"] as? Int, sideFacts.minOffset, "\(place) \(key) min", file: file, line: line)
                XCTAssertEqual(side?["max_offset"] as? Int, sideFacts.maxOffset, "\(place) \(key) max", file: file, line: line)
            }
            let expectMissingLeft = OffsetRanges.ranges(heldRight.subtracting(heldLeft))
            let expectMissingRight = OffsetRanges.ranges(heldLeft.subtracting(heldRight))
            let expectPayload = OffsetRanges.ranges((payloadMismatches[number] ?? []).intersection(heldLeft).intersection(heldRight))
            XCTAssertEqual(report["missing_in_left"] as? [[Int]], expectMissingLeft, "\(place) missing_in_left", file: file, line: line)
            XCTAssertEqual(report["missing_in_right"] as? [[Int]], expectMissingRight, "\(place) missing_in_right", file: file, line: line)
            XCTAssertEqual(report["payload_mismatches"] as? [[Int]], expectPayload, "\(place) payload_mismatches", file: file, line: line)
            for (key, sideFacts) in [("duplicates_left", l), ("duplicates_right", r)] {
                let ranges = (report[key] as? [[String: Any]] ?? []).map { [$0["first"] as? Int ?? -1, $0["last"] as? Int ?? -1, $0["count"] as? Int ?? -1] }
                XCTAssertEqual(ranges, sideFacts.duplicates, "\(place) \(key)", file: file, line: line)
            }
            let clean = expectMissingLeft.isEmpty && expectMissingRight.isEmpty && expectPayload.isEmpty
                && l.duplicates.isEmpty && r.duplicates.isEmpty
            XCTAssertEqual(report["parity"] as? Bool, clean, place, file: file, line: line)
            problems += [!expectMissingLeft.isEmpty, !expectMissingRight.isEmpty, !expectPayload.isEmpty,
                         !l.duplicates.isEmpty, !r.duplicates.isEmpty].filter { $0 }.count
            missingLeft += heldRight.subtracting(heldLeft).count
            missingRight += heldLeft.subtracting(heldRight).count
        }
        let summary = json["summary"] as? [String: Any]
        XCTAssertEqual(summary?["missing_in_left_offsets"] as? Int, missingLeft, file: file, line: line)
        XCTAssertEqual(summary?["missing_in_right_offsets"] as? Int, missingRight, file: file, line: line)
        XCTAssertEqual((summary?["problems"] as? [String])?.count, problems,
                       (summary?["problems"] as? [String] ?? []).joined(separator: "\n"), file: file, line: line)
        XCTAssertEqual(summary?["mismatched_partitions"] as? Int,
                       partitions.filter { $0["parity"] as? Bool == false }.count, file: file, line: line)
    }
}
