import Foundation
import TestSupport
import XCTest

/// A replay's progress survives snapshot expiry, whichever catalog holds the table: a replay is killed after
/// two commits, another writer appends (pyiceberg) and every other snapshot expires, so no snapshot of the
/// run is left; a rerun with the same arguments continues from the `k2.replay.<run-id>.*` table properties
/// its commits set, and each record is in the table once.
struct ExpiredSnapshotResumeScenario {
    static let topic = "market.crypto.trades.binance.raw"
    static let table = "market_data.bronze_binance_trades"

    /// k2-replay's `--catalog` (and `--warehouse` when that catalog needs one).
    var catalogArguments: [String]
    /// The same catalog for pyiceberg's SqlCatalog (a SQLAlchemy URI, no password).
    var sqlAlchemyURI: String
    /// The directory the table's files go to.
    var warehousePath: String
    /// For k2-replay and pyiceberg (PGPASSWORD); none of `secrets` may appear in k2-replay's output.
    var environment: [String: String] = [:]
    var secrets: [String] = []
    /// A directory for the log.
    var directory: URL

    private var pyicebergWarehouse: String { "file://" + warehousePath }

    /// Metadata files under the warehouse (one from the creation, one per commit).
    private func metadataFiles() -> Int {
        guard let walk = FileManager.default.enumerator(atPath: warehousePath) else { return 0 }
        return walk.compactMap { $0 as? String }.filter { $0.hasSuffix(".metadata.json") }.count
    }

    private func python(_ script: String, file: StaticString, line: UInt) throws -> [String: Any] {
        let result = try ProcessRunner.run(TestEnvironment.python, ["-c", script, sqlAlchemyURI, pyicebergWarehouse, Self.table],
                                           environment: environment)
        guard result.status == 0 else { throw CheckerFailure(message: "pyiceberg: \(result.stderrText)") }
        return try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], file: file, line: line)
    }

    struct CheckerFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    func run(file: StaticString = #filePath, line: UInt = #line) throws {
        let log = directory.appendingPathComponent("log").path
        let records = try KafkaLogFixture.write(log, topic: Self.topic, perPartition: 300)
        let arguments = ["--from", log, "--to", "iceberg"] + catalogArguments
            + ["--table", Self.table, "--style", "spark", "--create", "--commit-rows", "25", "--rate", "500", "--json"]

        // The first run is killed once its third commit's metadata file exists (two commits have landed).
        let process = try ProcessRunner.launchSilently(TestEnvironment.productPath("k2-replay"), arguments, environment: environment)
        while process.isRunning && metadataFiles() < 4 { Thread.sleep(forTimeInterval: 0.02) }
        let running = process.isRunning
        if running { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        XCTAssertTrue(running, "the replay finished before it was killed", file: file, line: line)

        // pyiceberg on the same catalog: another writer appends, every other snapshot expires.
        let state = try python("""
            import sys, json, datetime
            import pyarrow as pa
            from pyiceberg.catalog.sql import SqlCatalog
            cat = SqlCatalog("k2", uri=sys.argv[1], warehouse=sys.argv[2])
            t = cat.load_table(sys.argv[3])
            before = {k: v for k, v in t.properties.items() if k.startswith("k2.replay.")}
            rows = t.scan(selected_fields=("topic",)).to_arrow().num_rows
            now = datetime.datetime(2024, 2, 10, 12, 0, 0, tzinfo=datetime.timezone.utc)
            t.append(pa.Table.from_pylist([{"raw_bytes": b"unrelated", "topic": "other.topic", "partition": 9, "offset": 77,
                                            "kafka_timestamp": now, "ingestion_timestamp": now, "ingestion_date": now.date()}],
                                          schema=t.schema().as_arrow()))
            t = cat.load_table(sys.argv[3])
            current = t.current_snapshot().snapshot_id
            t.maintenance.expire_snapshots().by_ids([s.snapshot_id for s in t.snapshots() if s.snapshot_id != current]).commit()
            t = cat.load_table(sys.argv[3])
            print(json.dumps({"rows": rows, "before": before, "snapshots": len(t.snapshots()),
                              "replay_snapshots": sum(1 for s in t.snapshots() if "k2.replay.run-id" in s.summary.additional_properties)}))
            """, file: file, line: line)
        let rowsBefore = try XCTUnwrap(state["rows"] as? Int, file: file, line: line)
        XCTAssertGreaterThanOrEqual(rowsBefore, 50, file: file, line: line)
        XCTAssertLessThan(rowsBefore, records.count, file: file, line: line)
        let before = state["before"] as? [String: String] ?? [:]
        XCTAssertEqual(before.filter { $0.key.hasSuffix(".rows") }.map(\.value), [String(rowsBefore)], "\(before)", file: file, line: line)
        XCTAssertEqual(state["snapshots"] as? Int, 1, file: file, line: line)
        XCTAssertEqual(state["replay_snapshots"] as? Int, 0, file: file, line: line)

        let rerun = try ProgramRun.run("k2-replay", arguments, environment: environment)
        XCTAssertEqual(rerun.status, 0, rerun.stderrText, file: file, line: line)
        XCTAssertTrue(rerun.stderrText.contains("resuming run"), rerun.stderrText, file: file, line: line)
        ProgramRun.assertNoSecrets(rerun, secrets, file: file, line: line)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: rerun.stdout) as? [String: Any], file: file, line: line)
        XCTAssertEqual(summary["rows_committed"] as? Int, records.count - rowsBefore, file: file, line: line)

        let back = try python("""
            import sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            t = SqlCatalog("k2", uri=sys.argv[1], warehouse=sys.argv[2]).load_table(sys.argv[3])
            a = t.scan().to_arrow()
            print(json.dumps({
                "properties": {k: v for k, v in t.properties.items() if k.startswith("k2.replay.")},
                "rows": [[tp, p, o, r.hex()] for tp, p, o, r in zip(a.column("topic").to_pylist(), a.column("partition").to_pylist(),
                         a.column("offset").to_pylist(), a.column("raw_bytes").to_pylist())]}))
            """, file: file, line: line)
        var seen: [String: String] = [:]
        var others: [String] = []
        for row in back["rows"] as? [[Any]] ?? [] {
            guard row[0] as? String == Self.topic else { others.append(row[0] as? String ?? "?"); continue }
            let key = "\(row[1] as? Int ?? -1):\(row[2] as? Int ?? -1)"
            XCTAssertNil(seen[key], "\(key) twice", file: file, line: line)
            seen[key] = row[3] as? String
        }
        XCTAssertEqual(others, ["other.topic"], file: file, line: line)
        XCTAssertEqual(Set(seen.keys), Set(records.keys), file: file, line: line)
        for (key, record) in records { XCTAssertEqual(seen[key], record.hex, key, file: file, line: line) }
        let properties = back["properties"] as? [String: String] ?? [:]
        XCTAssertEqual(properties.filter { $0.key.hasSuffix(".rows") }.map(\.value), [String(records.count)], "\(properties)",
                       file: file, line: line)
        XCTAssertEqual(Set(properties.keys.map { $0.split(separator: ".").dropLast().joined(separator: ".") }).count, 1,
                       "one run's keys: \(properties.keys.sorted())", file: file, line: line)
    }
}
