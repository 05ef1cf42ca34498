import Foundation
import Iceberg
import Kafka
import TestSupport
import XCTest

/// We write, Spark reads and keeps writing: Java Iceberg 1.10 on Spark 3.5 (`scripts/spark_peer.py`) creates
/// K2's Spark Bronze table (Spark DDL) and a Flink-style table (Java API, as Flink's sink does) in a JDBC
/// catalog on SQLite; `k2-replay --to iceberg` appends into those tables (no --create) the Kafka records of a
/// segment log and the same records read back from a Kafka cluster. Spark then reads every row exactly,
/// appends on top, and runs its maintenance (rewrite_data_files, rewrite_manifests, expire_snapshots
/// keeping one snapshot), a Spark session per step; after each step k2-verify agrees with Spark's counts,
/// and at the end a rerun of each replay writes nothing.
/// Meanwhile a Spark streaming query and a paced k2-replay commit to one table at the same time: no commit
/// is lost (every snapshot is in the current one's lineage, and Spark reads both writers' rows). That part
/// needs the Spark session to have made the catalog's tables itself: a Java JdbcCatalog session started on
/// a SQLite catalog whose tables exist already fails to commit once another process has written the file
/// (SQLITE_BUSY with a rollback journal, SQLITE_BUSY_SNAPSHOT with WAL), whoever that writer is; its start-up
/// checks (atomicCreateTable's getTables, updateSchemaIfRequired's getColumns) leave their result sets open,
/// so a pooled connection keeps an old read transaction.
final class SparkReadsOurWritesTests: BronzeTableTestCase {
    override class var directoryPrefix: String { "bronze-spark-peer" }

    static let topic = BronzeLogFixture.kafkaTopic
    static let perPartition = 100
    /// Offsets Spark (or Java, on the Flink-style tables) appends after ours.
    static let appended = 100...149

    struct Target {
        let table: String
        let style: String
        let source: String   // "log" or "kafka"
    }

    static let targets = [Target(table: "spark_log", style: "spark", source: "log"),
                          Target(table: "flink_log", style: "flink", source: "log"),
                          Target(table: "spark_kafka", style: "spark", source: "kafka"),
                          Target(table: "flink_kafka", style: "flink", source: "kafka")]

    var sparkWarehouse: String { directory.appendingPathComponent("warehouse").path }
    var sparkCatalog: [String: Any] { SparkPeer.catalog(uri: "jdbc:sqlite:" + database, warehouse: sparkWarehouse) }

    static let shared = "shared"

    /// The captured topic replayed into the shared table.
    var sharedArguments: [String] {
        ["--from", log, "--source", "kafka:" + Self.topic, "--to", "iceberg", "--catalog", "sqlite:" + database,
         "--warehouse", sparkWarehouse, "--table", "market_data." + Self.shared, "--style", "spark", "--quiet", "--json"]
    }

    /// Whether Java has committed `table` to the SQLite catalog (read-only: the file is left as it is).
    func catalogHasTable(_ table: String) -> Bool {
        guard FileManager.default.fileExists(atPath: database) else { return false }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var found = false
        let path = database
        Task {
            defer { done.signal() }
            guard let connection = try? SQLiteConnection(path: path, readOnly: true, busyTimeoutMs: 1_000),
                  let rows = try? await connection.query("SELECT 1 FROM iceberg_tables WHERE table_name = ?", [.text(table)]) else { return }
            found = !rows.isEmpty
        }
        done.wait()
        return found
    }

    func replayArguments(_ target: Target, bootstrap: String) -> [String] {
        let from = target.source == "log" ? ["--from", log, "--source", "kafka:" + Self.topic]
            : ["--from", "kafka://\(bootstrap)/\(Self.topic)", "--until-end"]
        return from + ["--to", "iceberg", "--catalog", "sqlite:" + database, "--warehouse", sparkWarehouse,
                       "--table", "market_data." + target.table, "--style", target.style, "--commit-rows", "70", "--quiet", "--json"]
    }

    func testSparkReadsAndMaintainsTablesK2ReplayWroteAndTheRerunWritesNothing() throws {
        try XCTSkipUnless(SparkPeer.isAvailable, "Spark peer venv missing (run scripts/setup-spark.sh)")
        let fixture = try BronzeLogFixture.write(to: log, binanceTrades: 3 * Self.perPartition, krakenFrames: 0,
                                                 kafkaPerPartition: Self.perPartition)
        XCTAssertEqual(fixture.kafkaRecords.count, 3 * Self.perPartition)

        // Kafka: the captured records back in their partitions at their offsets.
        let cluster = try fixture.kafkaCluster(log: log)

        // 1. Spark creates the tables: Spark DDL for the Spark style, the Java API for the Flink style. First the
        // shared table, into which its streaming query then appends offsets 100-199 in 4 micro-batches, while
        // k2-replay (started as soon as the table is in the catalog) commits offsets 0-99 every 3 rows for ~30 s.
        let creation: [[String: Any]] = [["op": "create_spark_bronze", "table": Self.shared]] + Self.targets.map {
            ["op": $0.style == "spark" ? "create_spark_bronze" : "create_flink_style", "table": $0.table]
        } + [["op": "append_spark_rows", "table": Self.shared, "topic": Self.topic, "commits": 4, "days": ["2024-02-13"],
              "partitions": (0..<3).map { ["partition": $0, "first": Self.perPartition, "last": 2 * Self.perPartition - 1] }]]
        let sparkDone = DispatchGroup()
        nonisolated(unsafe) var sparkOutcome: Result<SparkPeer.Run, Error>?
        sparkDone.enter()
        let catalog = sparkCatalog
        DispatchQueue.global().async {
            sparkOutcome = Result { try SparkPeer.run(catalog: catalog, steps: creation) }
            sparkDone.leave()
        }
        defer { sparkDone.wait() }
        let deadline = Date().addingTimeInterval(240)
        while !catalogHasTable(Self.shared), sparkDone.wait(timeout: .now() + 0.1) == .timedOut, Date() < deadline {}
        let concurrentArguments = sharedArguments + ["--commit-rows", "3", "--rate", "10"]
        let concurrentResult = try ReplayRunner.run(concurrentArguments)
        sparkDone.wait()
        let created = try XCTUnwrap(sparkOutcome).get()
        XCTAssertEqual(created.results.count, creation.count)
        let sparkSnapshots = Set((created.results.last?["commits"] as? [[String: Any]] ?? []).compactMap { ($0["snapshot_id"] as? NSNumber)?.int64Value })
        XCTAssertEqual(sparkSnapshots.count, 4)
        XCTAssertEqual(concurrentResult.status, 0, concurrentResult.stderrText)
        let concurrentSummary = try JSONSerialization.jsonObject(with: concurrentResult.stdout) as? [String: Any]
        XCTAssertEqual(concurrentSummary?["rows_committed"] as? Int, fixture.kafkaRecords.count)
        let concurrentRunId = try XCTUnwrap(concurrentSummary?["run_id"] as? String)
        let concurrentCommits = concurrentSummary?["commits"] as? Int ?? -1

        // 2. k2-replay appends into the tables Spark and Java made.
        var runIds: [String: String] = [:]
        for target in Self.targets {
            let run = try ReplayRunner.run(replayArguments(target, bootstrap: cluster.bootstrap))
            XCTAssertEqual(run.status, 0, "\(target.table): \(run.stderrText)")
            let summary = try JSONSerialization.jsonObject(with: run.stdout) as? [String: Any]
            XCTAssertEqual(summary?["rows_committed"] as? Int, fixture.kafkaRecords.count, target.table)
            XCTAssertEqual(summary?["style"] as? String, target.style, target.table)
            XCTAssertGreaterThan(summary?["commits"] as? Int ?? 0, 1, target.table)
            runIds[target.table] = summary?["run_id"] as? String
        }

        // 3. Spark reads every row, appends, rewrites data files, rewrites manifests, expires snapshots: one
        // Spark session per step, and k2-verify checked against Spark's counts after each.
        var phases: [[(name: String, step: [String: Any])]] = [[]]
        func add(_ name: String, _ step: [String: Any]) { phases[phases.count - 1].append((name, step)) }
        func nextPhase() { phases.append([]) }
        func name(_ table: String) -> String { "market_data." + table }
        let everyPartition = (0..<3).map { ["partition": $0, "first": Self.appended.lowerBound, "last": Self.appended.upperBound] }
        let before = Dictionary(uniqueKeysWithValues: (0..<3).map { (String($0), [0, Self.perPartition - 1]) })
        let after = Dictionary(uniqueKeysWithValues: (0..<3).map { (String($0), [0, Self.appended.upperBound]) })
        add("dump", ["op": "sql", "limit": 100_000, "statement": Self.targets.map {
            "SELECT '\($0.table)' AS t, topic, partition, offset, lower(hex(raw_bytes)) AS raw, "
                + "unix_micros(CAST(kafka_timestamp AS TIMESTAMP)) AS ts FROM k2.\(name($0.table))"
        }.joined(separator: " UNION ALL ")])
        for target in Self.targets {
            add("facts0 " + target.table, ["op": "facts", "table": target.table, "topic": Self.topic, "expected": before])
        }
        for target in Self.targets {
            add("append " + target.table, ["op": target.style == "spark" ? "append_spark_rows" : "append_flink_rows",
                                           "table": target.table, "topic": Self.topic, "partitions": everyPartition,
                                           "commits": 1, "days": ["2024-02-12"]])
        }
        let maintenance: [(String, (String) -> String)] = [
            ("rewrite_data_files", { "CALL k2.system.rewrite_data_files(table => '\(name($0))', options => map('rewrite-all', 'true'))" }),
            ("rewrite_manifests", { "CALL k2.system.rewrite_manifests(table => '\(name($0))')" }),
            ("expire_snapshots", { "CALL k2.system.expire_snapshots(table => '\(name($0))', older_than => TIMESTAMP '2999-01-01 00:00:00', retain_last => 1)" }),
        ]
        add("facts after append", Self.perPartitionFacts())
        for (procedure, statement) in maintenance {
            nextPhase()
            for target in Self.targets { add(procedure + " " + target.table, ["op": "sql", "statement": statement(target.table)]) }
            add("facts after " + procedure, Self.perPartitionFacts())
        }
        for target in Self.targets {
            add("facts1 " + target.table, ["op": "facts", "table": target.table, "topic": Self.topic, "expected": after])
        }
        add("facts shared", ["op": "facts", "table": Self.shared, "topic": Self.topic,
                             "expected": Dictionary(uniqueKeysWithValues: (0..<3).map { (String($0), [0, 2 * Self.perPartition - 1]) })])
        add("snapshots shared", ["op": "sql", "statement": "SELECT snapshot_id, parent_id, summary FROM k2.\(name(Self.shared)).snapshots"])
        var results: [String: [String: Any]] = [:]
        func result(_ key: String) -> [String: Any] { results[key] ?? [:] }
        func rows(_ key: String) -> [[String: Any]] { result(key)["rows"] as? [[String: Any]] ?? [] }
        for (index, phase) in phases.enumerated() {
            let spark = try SparkPeer.run(catalog: sparkCatalog, steps: phase.map(\.step))
            for (offset, entry) in phase.enumerated() { results[entry.name] = spark.result(offset) }
            // k2-verify after each step agrees with what Spark SQL counts: rows and last offset per partition.
            let step = ["facts after append"] + maintenance.map { "facts after " + $0.0 }
            let counts = rows(step[index])
            for (left, right) in [("spark_log", "flink_log"), ("spark_kafka", "flink_kafka")] {
                let verified = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"),
                                                     ["--catalog", "sqlite:" + database, "--left", name(left), "--right", name(right), "--json"])
                XCTAssertEqual(verified.status, 0, "\(step[index]): \(left) vs \(right): \(verified.stdoutText.prefix(2000)) \(verified.stderrText)")
                let json = try? JSONSerialization.jsonObject(with: verified.stdout) as? [String: Any]
                for partition in json?["partitions"] as? [[String: Any]] ?? [] {
                    let number = partition["partition"] as? Int ?? -1
                    for (key, table) in [("left", left), ("right", right)] {
                        let spark = counts.first { $0["t"] as? String == table && $0["partition"] as? Int == number }
                        let side = partition[key] as? [String: Any]
                        XCTAssertEqual(side?["rows"] as? Int, spark?["n"] as? Int, "\(step[index]): \(table)[\(number)] rows")
                        XCTAssertEqual(side?["max_offset"] as? Int, spark?["hi"] as? Int, "\(step[index]): \(table)[\(number)] last offset")
                    }
                }
            }
        }

        // Spark reads every row k2-replay wrote, exactly: value, partition, offset, Kafka timestamp, topic.
        let expectedRows = Set(fixture.kafkaRecords.map { key, record in
            "\(Self.topic)|\(key[0])|\(key[1])|\(ReplayToIcebergTests.hex(record.value))|\(record.timestampMs * 1000)"
        })
        let dump = rows("dump")
        XCTAssertEqual(result("dump")["row_count"] as? Int, dump.count)
        for target in Self.targets {
            let read = dump.filter { $0["t"] as? String == target.table }.map {
                "\($0["topic"] ?? "")|\($0["partition"] ?? "")|\($0["offset"] ?? "")|\($0["raw"] ?? "")|\($0["ts"] ?? "")"
            }
            XCTAssertEqual(read.count, fixture.kafkaRecords.count, "\(target.table): rows Spark reads")
            XCTAssertEqual(Set(read), expectedRows, "\(target.table): rows Spark reads")
            let facts = SparkFacts(result("facts0 " + target.table))
            XCTAssertEqual(facts.totalRows, fixture.kafkaRecords.count, target.table)
            for (number, partition) in facts.partitions {
                XCTAssertEqual(partition.missing, [], "\(target.table)[\(number)]")
                XCTAssertEqual(partition.duplicates, [], "\(target.table)[\(number)]")
                XCTAssertEqual(partition.rows, Self.perPartition, "\(target.table)[\(number)]")
            }
        }

        // After each step every table holds offsets 0-149 of each partition once.
        for step in ["facts after append"] + maintenance.map({ "facts after " + $0.0 }) {
            let seen = rows(step)
            for target in Self.targets {
                let mine = seen.filter { $0["t"] as? String == target.table }
                    .map { [$0["partition"] as? Int ?? -1, $0["n"] as? Int ?? -1, $0["d"] as? Int ?? -1, $0["lo"] as? Int ?? -1, $0["hi"] as? Int ?? -1] }
                XCTAssertEqual(mine.sorted { $0[0] < $1[0] }, (0..<3).map { [$0, 150, 150, 0, 149] }, "\(step): \(target.table)")
            }
        }
        for target in Self.targets {
            let rewrite = rows("rewrite_data_files " + target.table).first
            XCTAssertGreaterThan(rewrite?["rewritten_data_files_count"] as? Int ?? 0, 1, "\(target.table): \(String(describing: rewrite))")
            XCTAssertGreaterThan(rewrite?["added_data_files_count"] as? Int ?? 0, 0, target.table)
            let manifests = rows("rewrite_manifests " + target.table).first
            XCTAssertNotNil(manifests?["rewritten_manifests_count"], target.table)
            let expired = rows("expire_snapshots " + target.table).first
            XCTAssertGreaterThan(expired?["deleted_data_files_count"] as? Int ?? 0, 0, "\(target.table): \(String(describing: expired))")
            let facts = SparkFacts(result("facts1 " + target.table))
            XCTAssertEqual(facts.snapshots, 1, target.table)
            XCTAssertEqual(facts.totalRows, 3 * Self.appended.upperBound + 3, target.table)
            for (number, partition) in facts.partitions {
                XCTAssertEqual(partition.missing, [], "\(target.table)[\(number)]")
                XCTAssertEqual(partition.duplicates, [], "\(target.table)[\(number)]")
            }
        }

        // The shared table: Spark reads both writers' rows, each offset once; no commit was lost (every snapshot
        // is an ancestor of the current one, and each writer's commits are all there), and they interleaved.
        let sharedFacts = SparkFacts(result("facts shared"))
        XCTAssertEqual(sharedFacts.totalRows, 6 * Self.perPartition)
        XCTAssertEqual(sharedFacts.snapshots, concurrentCommits + 4, "k2-replay's commits and Spark's 4")
        for number in 0..<3 {
            let partition = sharedFacts.partitions[number]
            XCTAssertEqual(partition?.rows, 2 * Self.perPartition, "shared[\(number)]")
            XCTAssertEqual(partition?.missing, [], "shared[\(number)]")
            XCTAssertEqual(partition?.duplicates, [], "shared[\(number)]")
        }
        let snapshotRows = rows("snapshots shared")
        var parents: [Int64: Int64] = [:]
        var runOf: [Int64: String] = [:]
        for row in snapshotRows {
            guard let id = (row["snapshot_id"] as? NSNumber)?.int64Value else { continue }
            if let parent = (row["parent_id"] as? NSNumber)?.int64Value { parents[id] = parent }
            runOf[id] = (row["summary"] as? [String: Any])?["k2.replay.run-id"] as? String ?? ""
        }
        var lineage: [Int64] = []
        var next = sharedFacts.snapshotId
        while let id = next, !lineage.contains(id) { lineage.insert(id, at: 0); next = parents[id] }
        XCTAssertEqual(Set(runOf.keys).subtracting(lineage), [], "snapshots outside the current lineage: a lost commit")
        XCTAssertEqual(Set(lineage).subtracting(runOf.keys), [], "the lineage names snapshots the table does not list")
        XCTAssertEqual(lineage.count, snapshotRows.count)
        XCTAssertTrue(sparkSnapshots.isSubset(of: Set(lineage)), "a Spark commit is not in the lineage")
        XCTAssertEqual(lineage.filter { runOf[$0] == concurrentRunId }.count, concurrentCommits, "k2-replay commits in the lineage")
        let k2Positions = lineage.indices.filter { runOf[lineage[$0]] == concurrentRunId }
        let sparkPositions = lineage.indices.filter { sparkSnapshots.contains(lineage[$0]) }
        XCTAssertTrue(sparkPositions.contains { p in k2Positions.contains { $0 < p } && k2Positions.contains { $0 > p } },
                      "the Spark commits did not land between k2-replay's (spark at \(sparkPositions), k2 at \(k2Positions.first ?? -1)...\(k2Positions.last ?? -1))")
        let sharedRerun = try ReplayRunner.run(concurrentArguments)
        XCTAssertEqual(sharedRerun.status, 0, sharedRerun.stderrText)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: sharedRerun.stdout) as? [String: Any])?["rows_committed"] as? Int, 0)

        // 4. k2-verify agrees with Spark's final facts: log vs Kafka sources, Spark vs Flink styles, payloads too.
        for (left, right) in [("spark_log", "flink_log"), ("spark_kafka", "flink_kafka"), ("spark_log", "flink_kafka")] {
            let verified = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"),
                                                 ["--catalog", "sqlite:" + database, "--left", name(left), "--right", name(right), "--payload", "--json"])
            XCTAssertEqual(verified.status, 0, "\(left) vs \(right): \(verified.stdoutText.prefix(3000)) \(verified.stderrText)")
            let json = try XCTUnwrap(try? JSONSerialization.jsonObject(with: verified.stdout) as? [String: Any], verified.stderrText)
            let leftFacts = SparkFacts(result("facts1 " + left)), rightFacts = SparkFacts(result("facts1 " + right))
            let summaryRows = (json["summary"] as? [String: Any])?["rows"] as? [String: Any]
            XCTAssertEqual(summaryRows?["left"] as? Int, leftFacts.totalRows)
            XCTAssertEqual(summaryRows?["right"] as? Int, rightFacts.totalRows)
            for partition in json["partitions"] as? [[String: Any]] ?? [] {
                let number = partition["partition"] as? Int ?? -1
                for (key, facts) in [("left", leftFacts), ("right", rightFacts)] {
                    let side = partition[key] as? [String: Any]
                    XCTAssertEqual(side?["rows"] as? Int, facts.partitions[number]?.rows, "\(left)/\(right) [\(number)] \(key)")
                    XCTAssertEqual(side?["max_offset"] as? Int, facts.partitions[number]?.maxOffset, "\(left)/\(right) [\(number)] \(key)")
                }
            }
            let health = json["health"] as? [String: Any]
            for (key, facts) in [("left", leftFacts), ("right", rightFacts)] {
                let side = health?[key] as? [String: Any]
                XCTAssertEqual(side?["snapshot_id"] as? Int64, facts.snapshotId, "\(left)/\(right) \(key)")
                XCTAssertEqual(side?["snapshots"] as? Int, 1, "\(left)/\(right) \(key)")
                XCTAssertEqual(side?["data_files"] as? Int, facts.dataFiles, "\(left)/\(right) \(key)")
                XCTAssertEqual(side?["total_records_match"] as? Bool, true, "\(left)/\(right) \(key)")
            }
        }

        // 5. The same replays again: nothing to write (the progress is a table property, which Spark's
        // rewrites and snapshot expiry kept), and every offset is still there once (pyiceberg and duckdb).
        for target in Self.targets {
            let rerun = try ReplayRunner.run(replayArguments(target, bootstrap: cluster.bootstrap))
            XCTAssertEqual(rerun.status, 0, "\(target.table): \(rerun.stderrText)")
            let summary = try JSONSerialization.jsonObject(with: rerun.stdout) as? [String: Any]
            XCTAssertEqual(summary?["rows_committed"] as? Int, 0, "\(target.table): \(rerun.stdoutText)")
            XCTAssertEqual(summary?["commits"] as? Int, 0, "\(target.table): \(rerun.stdoutText)")
            XCTAssertEqual(summary?["run_id"] as? String, runIds[target.table], target.table)
            XCTAssertEqual(summary?["run_rows_total"] as? Int, fixture.kafkaRecords.count, target.table)

            let back = try TableReadBack.read(database: database, warehouse: warehouse, table: name(target.table))
            XCTAssertEqual(back.rows, back.duckRows, target.table)
            let keys = back.rows.map { [$0.partition, $0.offset ?? -1] }
            XCTAssertEqual(keys.count, 3 * (Self.appended.upperBound + 1), target.table)
            XCTAssertEqual(Set(keys).count, keys.count, "\(target.table): an offset held twice")
            for row in back.rows where (row.offset ?? -1) < Self.perPartition {
                XCTAssertEqual(row.rawHex, fixture.kafkaRecords[[row.partition, row.offset ?? -1]].map { ReplayToIcebergTests.hex($0.value) },
                               "\(target.table) \(row)")
            }
        }
    }

    /// A `sql` step: rows, distinct offsets, first and last offset per table and partition (`t`, `partition`, ...).
    static func perPartitionFacts() -> [String: Any] {
        ["op": "sql", "statement": targets.map {
            "SELECT '\($0.table)' AS t, partition, count(*) AS n, count(DISTINCT offset) AS d, min(offset) AS lo, max(offset) AS hi "
                + "FROM k2.market_data.\($0.table) GROUP BY partition"
        }.joined(separator: " UNION ALL ")]
    }
}
