import Foundation
import TestSupport
import XCTest

/// `k2-verify` on tables whose data files Spark wrote (pyspark, local, Java 17) and pyiceberg registered
/// with `add_files`: no Iceberg field ids in the files, Spark's own Parquet writer (zstd and snappy).
final class SparkFilesTests: XCTestCase {
    func testSparkWrittenFilesWithInjectedDefects() throws {
        try XCTSkipUnless(TestEnvironment.hasPythonCheckers, "checker venv missing (run scripts/setup.sh)")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/usr/bin/java"), "Java 17 needed by pyspark (scripts/setup.sh)")
        let directory = try TestEnvironment.temporaryDirectory("k2-verify-spark")
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = TestEnvironment.repositoryRoot.appendingPathComponent("scripts/verify_spark_fixtures.py").path
        let made = try ProcessRunner.run(TestEnvironment.python, [script, directory.path])
        XCTAssertEqual(made.status, 0, made.stderrText)
        let facts = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(made.stdoutText.split(separator: "\n").last!.utf8)) as? [String: Any])

        let run = try ProcessRunner.run(TestEnvironment.productPath("k2-verify"), [
            "--catalog", "sqlite:" + directory.appendingPathComponent("catalog.db").path,
            "--left", "market_data.bronze_binance_trades", "--right", "market_data.bronze_binance_trades_flink", "--payload", "--json"])
        XCTAssertEqual(run.status, 1, run.stderrText)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: run.stdout) as? [String: Any])
        let partitions = try XCTUnwrap(json["partitions"] as? [[String: Any]])
        let expected: [Int: [String: [[Int]]]] = [
            0: ["missing_in_left": [[100, 149]]],
            1: ["payload_mismatches": [[42, 42]]],
            2: ["duplicates_right": [[300, 304, 2]]],
            3: ["duplicates_left": [[590, 599, 2]]],
            4: ["missing_in_right": [[0, 49]]],
        ]
        XCTAssertEqual(partitions.map { $0["partition"] as? Int }, [0, 1, 2, 3, 4])
        for partition in partitions {
            let number = partition["partition"] as! Int
            for key in ["missing_in_left", "missing_in_right", "payload_mismatches"] {
                XCTAssertEqual(partition[key] as? [[Int]], expected[number]?[key] ?? [], "partition \(number) \(key)")
            }
            for key in ["duplicates_left", "duplicates_right"] {
                let ranges = (partition[key] as? [[String: Any]] ?? []).map { [$0["first"] as! Int, $0["last"] as! Int, $0["count"] as! Int] }
                XCTAssertEqual(ranges, expected[number]?[key] ?? [], "partition \(number) \(key)")
            }
        }
        // The left files hold INT96 timestamps, the right ones INT64 micros: the same records fall in the same hours.
        let hours = try XCTUnwrap((json["counts_by_hour"] as? [String: Any])?.compactMapValues { $0 as? [String: Int] })
        XCTAssertEqual(Set(hours["left"]?.keys ?? [:].keys), Set(hours["right"]?.keys ?? [:].keys))
        XCTAssertFalse((hours["left"] ?? [:]).isEmpty)
        let health = try XCTUnwrap(json["health"] as? [String: Any])
        let left = try XCTUnwrap(health["left"] as? [String: Any])
        let twice = try XCTUnwrap(left["duplicate_added_files"] as? [[String: Any]])
        XCTAssertEqual(twice.map { $0["path"] as? String }, [facts["twice_file"] as? String])
        XCTAssertEqual(twice.first?["snapshot_ids"] as? [Int64], (facts["twice_snapshots"] as? [Int64])?.sorted())
        XCTAssertEqual(left["total_records_match"] as? Bool, true)
        XCTAssertEqual((health["right"] as? [String: Any])?["problems"] as? [String], [])
        XCTAssertEqual(((json["summary"] as? [String: Any])?["problems"] as? [String])?.count, 6)
    }
}
