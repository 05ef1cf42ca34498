import Foundation
import TestSupport
import XCTest

/// Through a REST catalog the replay's progress travels as a `set-properties` update in the same commit as
/// its snapshot: after a killed replay, an unrelated append and the expiry of every other snapshot
/// (pyiceberg, on the catalog behind the server), a rerun through REST continues where the run stopped.
final class ExpiredSnapshotResumeThroughRESTTests: XCTestCase {
    static let topic = "market.crypto.trades.binance.raw"
    static let table = "market_data.bronze_binance_trades"

    private var server: RESTCatalogServer?
    private var directory: URL!

    override func setUpWithError() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        directory = try TestEnvironment.temporaryDirectory("replay-rest-expire")
    }

    override func tearDown() {
        server?.stop()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// Metadata files under the server's warehouse (one from the creation, one per commit).
    private func metadataFiles(_ server: RESTCatalogServer) -> Int {
        let root = server.warehouse.hasPrefix("file://") ? String(server.warehouse.dropFirst("file://".count)) : server.warehouse
        guard let walk = FileManager.default.enumerator(atPath: root) else { return 0 }
        return walk.compactMap { $0 as? String }.filter { $0.hasSuffix(".metadata.json") }.count
    }

    func testRerunThroughRESTAfterSnapshotsExpiredWritesEachRecordOnce() throws {
        let server = try RESTCatalogServer()
        self.server = server
        let log = directory.appendingPathComponent("log").path
        let records = try KafkaLogFixture.write(log, topic: Self.topic, perPartition: 300)
        let arguments = ["--from", log, "--to", "iceberg", "--catalog", server.uri, "--table", Self.table, "--style", "spark",
                         "--create", "--commit-rows", "25", "--rate", "500", "--json"]

        // The first run is killed once its third commit's metadata file exists (two commits have landed).
        let process = try ProcessRunner.launchSilently(TestEnvironment.productPath("k2-replay"), arguments)
        while process.isRunning && metadataFiles(server) < 4 { Thread.sleep(forTimeInterval: 0.02) }
        let running = process.isRunning
        if running { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        XCTAssertTrue(running, "the replay finished before it was killed")

        // pyiceberg, on the SQLite catalog behind the server: another writer appends, every other snapshot expires.
        let maintenance = """
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
            """
        let maintained = try ProcessRunner.run(TestEnvironment.python, ["-c", maintenance, server.sqlAlchemyURI, server.warehouse, Self.table])
        XCTAssertEqual(maintained.status, 0, maintained.stderrText)
        let state = try XCTUnwrap(JSONSerialization.jsonObject(with: maintained.stdout) as? [String: Any])
        let rowsBefore = try XCTUnwrap(state["rows"] as? Int)
        XCTAssertGreaterThanOrEqual(rowsBefore, 50)
        XCTAssertLessThan(rowsBefore, records.count)
        let before = state["before"] as? [String: String] ?? [:]
        XCTAssertEqual(before.filter { $0.key.hasSuffix(".rows") }.map(\.value), [String(rowsBefore)], "\(before)")
        XCTAssertEqual(state["snapshots"] as? Int, 1)
        XCTAssertEqual(state["replay_snapshots"] as? Int, 0)

        let rerun = try ProgramRun.run("k2-replay", arguments, environment: [:])
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        XCTAssertTrue(rerun.stderrText.contains("resuming run"), rerun.stderrText)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: rerun.stdout) as? [String: Any])
        XCTAssertEqual(summary["rows_committed"] as? Int, records.count - rowsBefore)

        let readBack = """
            import sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            t = SqlCatalog("k2", uri=sys.argv[1], warehouse=sys.argv[2]).load_table(sys.argv[3])
            a = t.scan().to_arrow()
            print(json.dumps({
                "properties": {k: v for k, v in t.properties.items() if k.startswith("k2.replay.")},
                "rows": [[tp, p, o, r.hex()] for tp, p, o, r in zip(a.column("topic").to_pylist(), a.column("partition").to_pylist(),
                         a.column("offset").to_pylist(), a.column("raw_bytes").to_pylist())]}))
            """
        let back = try ProcessRunner.run(TestEnvironment.python, ["-c", readBack, server.sqlAlchemyURI, server.warehouse, Self.table])
        XCTAssertEqual(back.status, 0, back.stderrText)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: back.stdout) as? [String: Any])
        var seen: [String: String] = [:]
        var others: [String] = []
        for row in json["rows"] as? [[Any]] ?? [] {
            guard row[0] as? String == Self.topic else { others.append(row[0] as? String ?? "?"); continue }
            let key = "\(row[1] as? Int ?? -1):\(row[2] as? Int ?? -1)"
            XCTAssertNil(seen[key], "\(key) twice")
            seen[key] = row[3] as? String
        }
        XCTAssertEqual(others, ["other.topic"])
        XCTAssertEqual(Set(seen.keys), Set(records.keys))
        for (key, record) in records { XCTAssertEqual(seen[key], record.hex, key) }
        let properties = json["properties"] as? [String: String] ?? [:]
        XCTAssertEqual(properties.filter { $0.key.hasSuffix(".rows") }.map(\.value), [String(records.count)], "\(properties)")
        XCTAssertEqual(Set(properties.keys.map { $0.split(separator: ".").dropLast().joined(separator: ".") }).count, 1,
                       "one run's keys: \(properties.keys.sorted())")
    }
}
