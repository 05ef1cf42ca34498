import Foundation
import Kafka
import TestSupport
import XCTest

/// A replay's progress survives routine table maintenance: after a killed replay, another writer appends
/// on top and every snapshot but the current one is expired (pyiceberg), so no snapshot of the run is left
/// in the history; a rerun with the same arguments still continues after the committed rows, because the
/// progress is also a table property set by the same commits (`k2.replay.<run-id>.*`).
final class ExpiredSnapshotResumeTests: BronzeTableTestCase {
    override class var directoryPrefix: String { "bronze-expire" }

    static let table = "market_data.bronze_binance_trades_flink"

    private var arguments: [String] {
        ["--from", log, "--to", "iceberg", "--catalog", "sqlite:" + database, "--warehouse", warehouse,
         "--table", Self.table, "--style", "flink", "--create", "--source", "kafka:" + BronzeLogFixture.kafkaTopic,
         "--commit-rows", "30", "--rate", "600", "--json"]
    }

    private func metadataDirectory(_ table: String) -> String {
        directory.appendingPathComponent("warehouse/" + table.replacingOccurrences(of: ".", with: "/") + "/metadata").path
    }

    /// Starts k2-replay and kills it with SIGKILL once it has written `commits` commits' metadata files (one
    /// file from the creation, one per commit, written before the catalog swap: so at least `commits - 1`
    /// commits have landed); true when it was still running then.
    private func killAfterCommits(_ commits: Int, arguments: [String]? = nil, table: String = ExpiredSnapshotResumeTests.table) throws -> Bool {
        let metadataDirectory = metadataDirectory(table)
        let process = try ProcessRunner.launchSilently(TestEnvironment.productPath("k2-replay"), arguments ?? self.arguments)
        while process.isRunning {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: metadataDirectory)) ?? []
            if files.filter({ $0.hasSuffix(".metadata.json") }).count >= commits + 1 { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        let running = process.isRunning
        if running { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return running && process.terminationReason == .uncaughtSignal
    }

    /// pyiceberg: the replay properties and Kafka rows before maintenance, then (when `expire`) an unrelated
    /// append and the expiry of every snapshot but the current one, and (when `dropProperties`) the removal
    /// of the run's properties, as in a table written before they existed.
    private func maintain(expire: Bool, dropProperties: Bool, table: String = ExpiredSnapshotResumeTests.table) throws -> [String: Any] {
        let script = #"""
            import sys, json, datetime
            import pyarrow as pa
            from pyiceberg.catalog.sql import SqlCatalog
            from pyiceberg.types import TimestamptzType
            db, wh, name, expire, drop = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1", sys.argv[5] == "1"
            cat = SqlCatalog("k2", uri="sqlite:///" + db, warehouse=wh)
            t = cat.load_table(name)
            out = {"replay_properties": {k: v for k, v in t.properties.items() if k.startswith("k2.replay.")},
                   "rows_before": t.scan(selected_fields=("topic",)).to_arrow().num_rows,
                   "snapshots_before": len(t.snapshots())}
            if drop:
                with t.transaction() as tx:
                    tx.remove_properties(*out["replay_properties"].keys())
                t = cat.load_table(name)
            if expire:
                # Another writer (Spark, Flink) commits on top: the replay's snapshot is no longer current.
                now = datetime.datetime(2024, 2, 10, 12, 0, 0)
                if t.schema().find_field("kafka_timestamp").field_type == TimestamptzType(): now = now.replace(tzinfo=datetime.timezone.utc)
                row = pa.Table.from_pylist([{"raw_bytes": b"unrelated", "topic": "other.topic", "partition": 9, "offset": 77,
                                             "kafka_timestamp": now, "ingestion_timestamp": now, "ingestion_date": now.date()}],
                                           schema=t.schema().as_arrow())
                t.append(row)
                t = cat.load_table(name)
                current = t.current_snapshot().snapshot_id
                t.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in t.snapshots() if s.snapshot_id != current]).commit()
                t = cat.load_table(name)
            out["snapshots_after"] = len(t.snapshots())
            out["replay_snapshots_after"] = sum(1 for s in t.snapshots() if "k2.replay.run-id" in s.summary.additional_properties)
            out["properties_after"] = {k: v for k, v in t.properties.items() if k.startswith("k2.replay.")}
            print(json.dumps(out))
            """#
        let result = try ProcessRunner.python(script, [database, warehouse, table, expire ? "1" : "0", dropProperties ? "1" : "0"])
        guard result.status == 0 else { throw CheckerError(message: "pyiceberg maintenance failed: \(result.stderrText)") }
        return try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stdoutText)
    }

    /// The replay's Kafka rows hold each fixture record exactly once, with its value; the unrelated row is
    /// there once when `unrelated`.
    private func assertEachRecordOnce(_ fixture: BronzeLogFixture, unrelated: Bool,
                                      file: StaticString = #filePath, line: UInt = #line) throws -> TableReadBack {
        let back = try TableReadBack.read(database: database, warehouse: warehouse, table: Self.table)
        let replayed = back.rows.filter { $0.topic == BronzeLogFixture.kafkaTopic }
        let keys = replayed.map { [$0.partition, $0.offset ?? -1] }
        XCTAssertEqual(keys.count, fixture.kafkaRecords.count, "rows", file: file, line: line)
        XCTAssertEqual(Set(keys).count, keys.count, "duplicate (partition, offset)", file: file, line: line)
        XCTAssertEqual(Set(keys), Set(fixture.kafkaRecords.keys), "missing offsets", file: file, line: line)
        for row in replayed {
            XCTAssertEqual(row.rawHex, fixture.kafkaRecords[[row.partition, row.offset ?? -1]].map { ReplayToIcebergTests.hex($0.value) },
                           file: file, line: line)
        }
        let others = back.rows.filter { $0.topic != BronzeLogFixture.kafkaTopic }
        XCTAssertEqual(others.map(\.topic), unrelated ? ["other.topic"] : [], file: file, line: line)
        return back
    }

    /// The replay properties of one run in `properties`: its run id and its `k2.replay.<run-id>.*` values.
    private func runProperties(_ properties: [String: String], file: StaticString = #filePath, line: UInt = #line) -> (String, [String: String]) {
        let runIds = Set(properties.keys.compactMap { key -> String? in
            let parts = key.split(separator: ".")
            return parts.count == 4 && parts[0] == "k2" && parts[1] == "replay" ? String(parts[2]) : nil
        })
        XCTAssertEqual(runIds.count, 1, "one run's properties: \(properties.keys.sorted())", file: file, line: line)
        guard let runId = runIds.first else { return ("", [:]) }
        var values: [String: String] = [:]
        for (key, value) in properties where key.hasPrefix("k2.replay.\(runId).") {
            values[String(key.dropFirst("k2.replay.\(runId).".count))] = value
        }
        return (runId, values)
    }

    private func json(_ text: String?) -> [String: Int] {
        guard let data = text?.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Int] else { return [:] }
        return object
    }

    func testRerunAfterSnapshotsExpiredAndAnotherWriterAppendedWritesEachRecordOnce() throws {
        let fixture = try BronzeLogFixture.write(to: log, binanceTrades: 1200, krakenFrames: 0, kafkaPerPartition: 400)
        XCTAssertEqual(fixture.kafkaRecords.count, 1200)
        XCTAssertTrue(try killAfterCommits(2), "the replay finished before it was killed")

        let maintained = try maintain(expire: true, dropProperties: false)
        let rowsBefore = try XCTUnwrap(maintained["rows_before"] as? Int)
        XCTAssertGreaterThanOrEqual(rowsBefore, 30)
        XCTAssertLessThan(rowsBefore, 1200)
        // What the killed run recorded, as pyiceberg reads it: its rows and commits so far.
        let (runId, killedRun) = runProperties(maintained["replay_properties"] as? [String: String] ?? [:])
        XCTAssertEqual(killedRun["rows"], String(rowsBefore))
        XCTAssertEqual(killedRun["commit"].flatMap(Int.init), maintained["snapshots_before"] as? Int)
        XCTAssertEqual(json(killedRun["progress"]).count, 3, "one position per Kafka partition: \(killedRun)")
        // After maintenance no snapshot of the run is left: only the history would not find its progress.
        XCTAssertEqual(maintained["snapshots_after"] as? Int, 1)
        XCTAssertEqual(maintained["replay_snapshots_after"] as? Int, 0)
        XCTAssertEqual(maintained["properties_after"] as? [String: String], maintained["replay_properties"] as? [String: String],
                       "other writers' commits and the expiry keep the replay's properties")

        let rerun = try ReplayRunner.run(arguments)
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        XCTAssertTrue(rerun.stderrText.contains("resuming run \(runId): \(rowsBefore) rows"), rerun.stderrText)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: rerun.stdout) as? [String: Any])
        XCTAssertEqual(summary["run_id"] as? String, runId)
        XCTAssertEqual(summary["rows_committed"] as? Int, 1200 - rowsBefore)
        XCTAssertEqual(summary["run_rows_total"] as? Int, 1200)

        let back = try assertEachRecordOnce(fixture, unrelated: true)
        let (finalRunId, finalRun) = runProperties(back.properties.filter { $0.key.hasPrefix("k2.replay.") })
        XCTAssertEqual(finalRunId, runId)
        XCTAssertEqual(finalRun["rows"], "1200")
        // Per stream of the log (a Kafka partition) the last log sequence done: 400 records each, from 1.
        XCTAssertEqual(json(finalRun["progress"]), ["kafka:\(BronzeLogFixture.kafkaTopic)/0": 400,
                                                    "kafka:\(BronzeLogFixture.kafkaTopic)/1": 400,
                                                    "kafka:\(BronzeLogFixture.kafkaTopic)/2": 400])
        XCTAssertEqual(finalRun["source"], log)
        // The table's own properties (the Flink job's) are still there.
        XCTAssertEqual(back.properties["write.parquet.compression-codec"], "snappy")
        XCTAssertEqual(back.properties["write.metadata.previous-versions-max"], "5")

        // A third run finds everything done and writes nothing.
        let third = try ReplayRunner.run(arguments)
        XCTAssertEqual(third.status, 0, third.stderrText)
        let thirdSummary = try XCTUnwrap(JSONSerialization.jsonObject(with: third.stdout) as? [String: Any])
        XCTAssertEqual(thirdSummary["rows_committed"] as? Int, 0)
        _ = try assertEachRecordOnce(fixture, unrelated: true)
    }

    /// A table whose run left progress only in the snapshot history (written before the properties
    /// existed): the rerun resumes from the history and records the properties from then on.
    func testRunRecordedOnlyInSnapshotHistoryResumesFromIt() throws {
        let fixture = try BronzeLogFixture.write(to: log, binanceTrades: 1200, krakenFrames: 0, kafkaPerPartition: 400)
        XCTAssertTrue(try killAfterCommits(2), "the replay finished before it was killed")
        let maintained = try maintain(expire: false, dropProperties: true)
        let rowsBefore = try XCTUnwrap(maintained["rows_before"] as? Int)
        XCTAssertGreaterThan(rowsBefore, 0)
        XCTAssertEqual((maintained["properties_after"] as? [String: String])?.count, 0)
        XCTAssertEqual(maintained["replay_snapshots_after"] as? Int, maintained["snapshots_before"] as? Int)

        let rerun = try ReplayRunner.run(arguments)
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: rerun.stdout) as? [String: Any])
        XCTAssertEqual(summary["rows_committed"] as? Int, 1200 - rowsBefore)
        let back = try assertEachRecordOnce(fixture, unrelated: false)
        let (_, finalRun) = runProperties(back.properties.filter { $0.key.hasPrefix("k2.replay.") })
        XCTAssertEqual(finalRun["rows"], "1200")
    }

    /// A Kafka topic backfill (`--until-end`) killed, then the topic grows, another writer appends and the
    /// snapshots expire: the rerun still stops at the end offsets fixed at the first start (recorded in the
    /// `k2.replay.<run-id>.end` property) and writes each of the original records once, none of the new ones.
    func testKafkaBackfillRerunAfterExpiryKeepsTheRecordedEnd() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        let topic = BronzeLogFixture.kafkaTopic
        try cluster.createTopic(topic, partitions: 3, replicationFactor: 1)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        let producer = try KafkaProducer(config: config)
        func produce(_ label: String, perPartition: Int) throws {
            for partition in Int32(0)..<3 {
                for index in 0..<perPartition {
                    try producer.produce(topic: topic, partition: partition, key: Array("BTCUSDT".utf8),
                                         value: [0, 0, 0, 0, 7] + Array("\(label) p\(partition) #\(index)".utf8),
                                         timestampMs: 1_707_472_800_000 + Int64(index))
                }
            }
            XCTAssertTrue(producer.flush(timeoutMs: 30_000))
            XCTAssertEqual(producer.failedCount, 0)
        }
        try produce("first", perPartition: 300)
        let table = "market_data.bronze_binance_trades"
        let arguments = ["--from", "kafka://\(cluster.bootstrap)/\(topic)", "--to", "iceberg", "--catalog", "sqlite:" + database,
                         "--warehouse", warehouse, "--table", table, "--style", "spark", "--create", "--until-end",
                         "--commit-rows", "30", "--rate", "600", "--json"]
        XCTAssertTrue(try killAfterCommits(2, arguments: arguments, table: table), "the backfill finished before it was killed")
        try produce("late", perPartition: 20)
        let maintained = try maintain(expire: true, dropProperties: false, table: table)
        let rowsBefore = try XCTUnwrap(maintained["rows_before"] as? Int)
        XCTAssertGreaterThanOrEqual(rowsBefore, 30)
        XCTAssertEqual(maintained["replay_snapshots_after"] as? Int, 0)
        let (_, killedRun) = runProperties(maintained["replay_properties"] as? [String: String] ?? [:])
        XCTAssertEqual(json(killedRun["end"]), ["kafka:\(topic)/0": 300, "kafka:\(topic)/1": 300, "kafka:\(topic)/2": 300])

        let rerun = try ReplayRunner.run(arguments)
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: rerun.stdout) as? [String: Any])
        XCTAssertEqual(summary["rows_committed"] as? Int, 900 - rowsBefore)

        let back = try TableReadBack.read(database: database, warehouse: warehouse, table: table)
        let replayed = back.rows.filter { $0.topic == topic }
        let keys = replayed.map { [$0.partition, $0.offset ?? -1] }
        XCTAssertEqual(keys.count, 900)
        XCTAssertEqual(Set(keys), Set((0..<3).flatMap { p in (0..<300).map { [Int64(p), Int64($0)] } }))
        for row in replayed {
            XCTAssertEqual(row.rawHex, ReplayToIcebergTests.hex([0, 0, 0, 0, 7] + Array("first p\(row.partition) #\(row.offset ?? -1)".utf8)))
        }
        XCTAssertEqual(back.rows.filter { $0.topic != topic }.map(\.topic), ["other.topic"])
    }
}
