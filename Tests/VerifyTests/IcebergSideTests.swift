import Foundation
import TestSupport
import XCTest

/// `k2-verify` on Bronze table pairs written by pyiceberg (scripts/verify_fixtures.py): a Spark-style and
/// a Flink-style table from the same Kafka records, clean or with injected defects.
final class IcebergSideTests: XCTestCase {
    static let topic = "market.crypto.trades.binance.raw"
    static let sides = ["--left", "market_data.bronze_binance_trades", "--right", "market_data.bronze_binance_trades_flink"]

    struct Fixture {
        let directory: URL
        let facts: [String: Any]
        var catalog: String { "sqlite:" + directory.appendingPathComponent("catalog.db").path }
    }

    func makeFixture(_ scenario: String) throws -> Fixture {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        let directory = try TestEnvironment.temporaryDirectory("k2-verify-iceberg")
        addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/verify_fixtures.py").path
        let result = try ProcessRunner.run(TestEnvironment.python, [script, directory.path, scenario])
        XCTAssertEqual(result.status, 0, result.stderrText)
        let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any], result.stdoutText)
        return Fixture(directory: directory, facts: facts)
    }

    func verify(_ fixture: Fixture, _ arguments: [String]) throws -> (status: Int32, json: [String: Any]?, result: ProcessResult) {
        let result = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"), ["--catalog", fixture.catalog] + arguments)
        let json = try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        return (result.status, json, result)
    }

    /// Progress lines (VerifyProgressTests has --quiet): table sides know their rows before reading
    /// (`total-records`), so the lines carry a total and an ETA.
    func testTablePairProgressHasTotalAndETA() throws {
        let fixture = try makeFixture("clean")
        let result = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"),
                                           ["--catalog", fixture.catalog] + Self.sides + ["--payload", "--json"],
                                           environment: ["K2_PROGRESS_INTERVAL": "0"])
        XCTAssertEqual(result.status, 0, result.stderrText)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
        let rows = try XCTUnwrap((json["summary"] as? [String: Any])?["rows"] as? [String: Any])
        // Both tables, each read twice (offsets, then payload hashes).
        let expected = 2 * ((rows["left"] as? Int ?? 0) + (rows["right"] as? Int ?? 0))
        XCTAssertGreaterThan(expected, 0)
        let lines = result.stderrText.split(separator: "\n").filter { $0.hasPrefix("k2-verify: progress: rows ") }
        XCTAssertFalse(lines.isEmpty, result.stderrText)
        XCTAssertTrue(lines.allSatisfy { $0.contains("/~\(expected) (") && $0.contains(", ETA ") }, result.stderrText)
        XCTAssertTrue(lines.last!.contains("rows \(expected)/~\(expected) (100%), remaining ~0, ETA 0s"), String(lines.last!))
    }

    func testInjectedDefectsAreNamedExactly() throws {
        let fixture = try makeFixture("defects")
        let run = try verify(fixture, Self.sides + ["--payload", "--json"])
        XCTAssertEqual(run.status, 1, run.result.stderrText)
        let json = try XCTUnwrap(run.json, run.result.stdoutText)
        XCTAssertEqual(json["parity"] as? Bool, false)
        let partitions = try XCTUnwrap(json["partitions"] as? [[String: Any]])
        XCTAssertEqual(partitions.map { $0["partition"] as? Int }, [0, 1, 2, 3, 4])

        // Every defect list of every partition, exactly: what is not listed here must be empty.
        let expected: [Int: [String: [[Int]]]] = [
            0: ["missing_in_left": [[100, 149]]],
            1: ["missing_in_right": [[200, 249]], "payload_mismatches": [[42, 42]]],
            2: ["missing_in_left": [[500, 519]], "duplicates_right": [[300, 304, 2]]],
            3: ["missing_in_right": [[0, 9]], "duplicates_left": [[590, 599, 2]]],
            4: ["missing_in_right": [[0, 49]]],
        ]
        for partition in partitions {
            let number = partition["partition"] as! Int
            XCTAssertEqual(partition["topic"] as? String, Self.topic)
            for key in ["missing_in_left", "missing_in_right", "payload_mismatches"] {
                XCTAssertEqual(partition[key] as? [[Int]], expected[number]?[key] ?? [], "partition \(number) \(key)")
            }
            for key in ["duplicates_left", "duplicates_right"] {
                let ranges = (partition[key] as? [[String: Any]] ?? []).map { [$0["first"] as! Int, $0["last"] as! Int, $0["count"] as! Int] }
                XCTAssertEqual(ranges, expected[number]?[key] ?? [], "partition \(number) \(key)")
            }
            XCTAssertEqual((partition["retention"] as? [Any])?.count, 0)
        }
        let p4 = partitions[4]
        XCTAssertEqual((p4["right"] as? [String: Any])?["rows"] as? Int, 0)
        XCTAssertEqual((p4["left"] as? [String: Any])?["rows"] as? Int, 50)
        XCTAssertEqual((partitions[3]["left"] as? [String: Any])?["rows"] as? Int, 610)
        XCTAssertEqual((partitions[3]["left"] as? [String: Any])?["distinct_offsets"] as? Int, 600)

        // Health: the data file committed by two snapshots, on the left only; summaries agree with the rows.
        let health = try XCTUnwrap(json["health"] as? [String: Any])
        let left = try XCTUnwrap(health["left"] as? [String: Any])
        let right = try XCTUnwrap(health["right"] as? [String: Any])
        let twice = try XCTUnwrap(left["duplicate_added_files"] as? [[String: Any]])
        XCTAssertEqual(twice.count, 1)
        XCTAssertEqual(twice.first?["path"] as? String, fixture.facts["twice_file"] as? String)
        XCTAssertEqual(twice.first?["snapshot_ids"] as? [Int64], (fixture.facts["twice_snapshots"] as? [Int64])?.sorted())
        XCTAssertEqual(twice.first?["records"] as? Int, 10)
        XCTAssertEqual((left["problems"] as? [String])?.count, 1)
        XCTAssertEqual((right["duplicate_added_files"] as? [[String: Any]])?.count, 0)
        XCTAssertEqual(right["problems"] as? [String], [])
        XCTAssertEqual(left["summary_total_records"] as? Int, fixture.facts["left_total_records"] as? Int)
        XCTAssertEqual(left["rows_read"] as? Int, fixture.facts["left_total_records"] as? Int)
        XCTAssertEqual(left["total_records_match"] as? Bool, true)
        XCTAssertEqual(right["total_records_match"] as? Bool, true)
        let leftMarkers = Dictionary(uniqueKeysWithValues: (left["commit_markers"] as? [[String: Any]] ?? []).map { ($0["key"] as! String, $0["value"] as! String) })
        XCTAssertEqual(leftMarkers["spark.sql.streaming.epochId"], "5")
        let rightMarkers = Dictionary(uniqueKeysWithValues: (right["commit_markers"] as? [[String: Any]] ?? []).map { ($0["key"] as! String, $0["value"] as! String) })
        XCTAssertEqual(rightMarkers["flink.max-committed-checkpoint-id"], "5")
        XCTAssertEqual(((json["sides"] as? [String: Any])?["right"] as? [String: Any])?["snapshot_id"] as? Int64,
                       (fixture.facts["right_snapshots"] as? [Int64])?.last)

        // 8 partition defects and the duplicate commit, nothing else.
        let problems = try XCTUnwrap((json["summary"] as? [String: Any])?["problems"] as? [String])
        XCTAssertEqual(problems.count, 9, problems.joined(separator: "\n"))
    }

    func testCleanPairIsParity() throws {
        let fixture = try makeFixture("clean")
        let run = try verify(fixture, Self.sides + ["--payload", "--json"])
        XCTAssertEqual(run.status, 0, run.result.stderrText + run.result.stdoutText)
        try ReportSchema.assertValid(run.result.stdout, "a clean pair's report")
        // --warehouse DIR alone names its embedded catalog, sqlite:DIR/catalog.db, as k2-replay's does.
        let byWarehouse = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"), ["--warehouse", fixture.directory.path] + Self.sides)
        XCTAssertEqual(byWarehouse.status, 0, byWarehouse.stderrText)
        XCTAssertEqual(run.json?["parity"] as? Bool, true)
        let rows = ((run.json?["summary"] as? [String: Any])?["rows"] as? [String: Any])?.compactMapValues { $0 as? Int }
        XCTAssertEqual(rows, ["left": 2_400, "right": 2_400])
        XCTAssertEqual((run.json?["counts_by_ingestion_date"] as? [String: Any])?["right"] as? [String: Int], ["2024-02-09": 1_440, "2024-02-10": 960])

        // The text table says so too, and an HTML page is written alongside.
        let page = fixture.directory.appendingPathComponent("parity.html")
        let text = try verify(fixture, Self.sides + ["--html", page.path])
        XCTAssertEqual(text.status, 0)
        XCTAssertTrue(text.result.stdoutText.split(separator: "\n").last!.hasPrefix("PARITY: 4 partition(s), 0 mismatched"), text.result.stdoutText)
        let html = try String(contentsOf: page, encoding: .utf8)
        XCTAssertTrue(html.contains("<svg id=\"rows-over-time\""))
        XCTAssertEqual(html.components(separatedBy: "<svg class=\"timeline\"").count - 1, 4)
    }

    func testPinnedSnapshotsAndScope() throws {
        let fixture = try makeFixture("defects")
        let leftSnapshots = try XCTUnwrap(fixture.facts["left_snapshots"] as? [Int64])
        let rightSnapshots = try XCTUnwrap(fixture.facts["right_snapshots"] as? [Int64])
        // After the first micro-batch (offsets 0-149): only partition 4 (left only) and 3's head differ.
        let first = try verify(fixture, Self.sides + ["--json", "--snapshot-left", String(leftSnapshots[0]), "--snapshot-right", String(rightSnapshots[0])])
        XCTAssertEqual(first.status, 1, first.result.stderrText)
        let partitions = try XCTUnwrap(first.json?["partitions"] as? [[String: Any]])
        XCTAssertEqual(partitions.filter { $0["parity"] as? Bool == false }.map { $0["partition"] as! Int }, [0, 3, 4])
        XCTAssertEqual(partitions.first { $0["partition"] as? Int == 0 }?["missing_in_left"] as? [[Int]], [[100, 149]])
        XCTAssertEqual(partitions.first { $0["partition"] as? Int == 3 }?["missing_in_right"] as? [[Int]], [[0, 9]])
        XCTAssertEqual(((first.json?["summary"] as? [String: Any])?["rows"] as? [String: Any])?.compactMapValues { $0 as? Int }, ["left": 100 + 150 * 3 + 50, "right": 150 * 4 - 10])

        // Partitions 1 and 2 between offsets 305 and 499 in time (10 s per offset from 23:00:00, plus the
        // partition number in ms): clear of their defects, so parity.
        let scoped = try verify(fixture, Self.sides + ["--json", "--payload", "--partitions", "1-2",
                                                       "--since", "2024-02-09T23:50:50Z", "--until", "2024-02-10T00:23:20Z"])
        XCTAssertEqual(scoped.status, 0, scoped.result.stdoutText + scoped.result.stderrText)
        XCTAssertEqual((scoped.json?["partitions"] as? [[String: Any]])?.map { $0["partition"] as! Int }, [1, 2])
        XCTAssertEqual(((scoped.json?["summary"] as? [String: Any])?["rows"] as? [String: Any])?.compactMapValues { $0 as? Int }, ["left": 390, "right": 390])
        // The duplicate commit is still a table health problem, but it is outside the scope's partitions.
        // Incomparable figures are there, as null (docs/verify-report.md), not left out.
        let scopedHealth = try XCTUnwrap((scoped.json?["health"] as? [String: Any])?["left"] as? [String: Any])
        for key in ["total_records_match", "rows_read", "rows_deleted"] {
            XCTAssertTrue(scopedHealth[key] is NSNull, "\(key): \(String(describing: scopedHealth[key]))")
        }
        let scopeObject = try XCTUnwrap(scoped.json?["scope"] as? [String: Any])
        XCTAssertEqual(scopeObject["since"] as? String, "2024-02-09T23:50:50.000Z")
        XCTAssertEqual(scopeObject["partitions"] as? [Int], [1, 2])
        try ReportSchema.assertValid(scoped.result.stdout, "a scoped report")
        let partitionOnly = try verify(fixture, Self.sides + ["--json", "--partitions", "1"])
        try ReportSchema.assertValid(partitionOnly.result.stdout, "a partition-scoped report")
        let partitionScope = try XCTUnwrap(partitionOnly.json?["scope"] as? [String: Any])
        XCTAssertTrue(partitionScope["since"] is NSNull && partitionScope["until"] is NSNull, "\(partitionScope)")
    }

    /// A check writes nothing to the catalog: the SQLite file keeps its bytes (and its rollback-journal
    /// mode, which pyiceberg and Java chose), and a file and directory that cannot be written still serve.
    func testReadOnlyCatalogIsNotChanged() throws {
        let fixture = try makeFixture("clean")
        let catalogFile = fixture.directory.appendingPathComponent("catalog.db")
        let before = try Data(contentsOf: catalogFile)
        XCTAssertEqual(before[18], 1, "the fixture's catalog starts in rollback-journal mode")
        let run = try verify(fixture, Self.sides + ["--json"])
        XCTAssertEqual(run.status, 0, run.result.stderrText)
        XCTAssertEqual(try Data(contentsOf: catalogFile), before, "k2-verify changed the catalog file")
        for suffix in ["-wal", "-shm", "-journal"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: catalogFile.path + suffix), suffix)
        }
        // Tests run as root, whom file modes do not stop: the immutable attribute does.
        let lock = try ProcessRunner.run("/usr/bin/chattr", ["+i", catalogFile.path, fixture.directory.path])
        try XCTSkipUnless(lock.status == 0, "chattr +i is not available here: \(lock.stderrText)")
        defer { _ = try? ProcessRunner.run("/usr/bin/chattr", ["-i", catalogFile.path, fixture.directory.path]) }
        let locked = try verify(fixture, Self.sides + ["--json"])
        XCTAssertEqual(locked.status, 0, locked.result.stderrText)
        XCTAssertEqual(locked.json?["parity"] as? Bool, true)
    }

    func testUnreadableInputsExitTwoNamingTheCulprit() throws {
        let fixture = try makeFixture("clean")
        // Time travel before the first commit, and a snapshot id the table never had.
        let before = try verify(fixture, Self.sides + ["--as-of", "2001-01-01T00:00:00Z"])
        XCTAssertEqual(before.status, 2)
        XCTAssertTrue(before.result.stderrText.contains("market_data.bronze_binance_trades"), before.result.stderrText)
        let unknown = try verify(fixture, Self.sides + ["--snapshot-right", "42"])
        XCTAssertEqual(unknown.status, 2)
        XCTAssertTrue(unknown.result.stderrText.contains("42"), unknown.result.stderrText)
        // As of now: the current snapshots, the same parity as without --as-of.
        let now = try verify(fixture, Self.sides + ["--as-of", String(Int(Date().timeIntervalSince1970) + 60), "--json"])
        XCTAssertEqual(now.status, 0, now.result.stderrText)
        XCTAssertEqual(now.json?["parity"] as? Bool, true)

        let missingTable = try verify(fixture, ["--left", "market_data.no_such_table", "--right", "market_data.bronze_binance_trades_flink"])
        XCTAssertEqual(missingTable.status, 2)
        XCTAssertTrue(missingTable.result.stderrText.contains("market_data.no_such_table"), missingTable.result.stderrText)
        XCTAssertEqual(missingTable.result.stdout.count, 0)

        // Delete one data file of the Flink table: the error names it.
        let data = fixture.directory.appendingPathComponent("warehouse/market_data/bronze_binance_trades_flink/data")
        let files = FileManager.default.enumerator(atPath: data.path)!.compactMap { $0 as? String }.filter { $0.hasSuffix(".parquet") }.sorted()
        let victim = try XCTUnwrap(files.first)
        try FileManager.default.removeItem(at: data.appendingPathComponent(victim))
        let missingFile = try verify(fixture, Self.sides)
        XCTAssertEqual(missingFile.status, 2)
        XCTAssertTrue(missingFile.result.stderrText.contains((victim as NSString).lastPathComponent), missingFile.result.stderrText)
        XCTAssertTrue(missingFile.result.stderrText.contains("market_data.bronze_binance_trades_flink"), missingFile.result.stderrText)
    }
}
