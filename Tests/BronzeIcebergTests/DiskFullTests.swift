import Foundation
import TestSupport
import XCTest

/// A replay into Iceberg whose warehouse disk fills up (a real ENOSPC on a 64 KiB tmpfs): it fails naming
/// the file and the error, leaves no temporary file, and once the disk has room a rerun with the same
/// arguments writes every record exactly once. Skipped where this process may not mount a tmpfs.
final class DiskFullTests: BronzeTableTestCase {
    override class var directoryPrefix: String { "bronze-disk-full" }

    func testWarehouseDiskFullThenRerunWritesEachRecordOnceAndLeavesNoTemporaries() throws {
        guard let mount = try TestEnvironment.mountTmpfs(bytes: 64 << 10, "k2-iceberg-enospc") else {
            throw XCTSkip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
        }
        defer { TestEnvironment.unmountTmpfs(mount) }
        let fixture = try BronzeLogFixture.write(to: log, binanceTrades: 6000, krakenFrames: 0, kafkaPerPartition: 2000)
        let warehouse = "file://" + mount.appendingPathComponent("warehouse").path
        let table = "market_data.bronze_binance_trades"
        let arguments = ["--from", log, "--to", "iceberg", "--catalog", "sqlite:" + database, "--warehouse", warehouse,
                         "--table", table, "--style", "spark", "--create", "--source", "kafka:" + BronzeLogFixture.kafkaTopic,
                         "--commit-rows", "100", "--quiet"]
        let full = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), arguments)
        let written = FileManager.default.enumerator(atPath: mount.path)?.allObjects as? [String] ?? []
        XCTAssertNotEqual(full.status, 0, "64 KiB cannot hold the table: \(full.stderrText) \(written)")
        XCTAssertTrue(full.stderrText.lowercased().contains("no space left on device"), full.stderrText)
        XCTAssertEqual(try temporaries(mount), [], "left by the failed run")

        try TestEnvironment.resizeTmpfs(mount, bytes: 64 << 20)
        let rerun = try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), arguments)
        XCTAssertEqual(rerun.status, 0, rerun.stderrText)
        XCTAssertEqual(try temporaries(mount), [], "left by the rerun")

        let back = try TableReadBack.read(database: database, warehouse: warehouse, table: table)
        XCTAssertEqual(back.rows, back.duckRows)
        let keys = back.rows.map { [$0.partition, $0.offset ?? -1] }
        XCTAssertEqual(keys.count, fixture.kafkaRecords.count, "rows")
        XCTAssertEqual(Set(keys).count, keys.count, "duplicate (partition, offset)")
        XCTAssertEqual(Set(keys), Set(fixture.kafkaRecords.keys), "missing offsets")
    }

    /// Files whose names say they are temporary (`.tmp`, hidden `.…tmp-…` Parquet outputs), anywhere below `root`.
    private func temporaries(_ root: URL) throws -> [String] {
        let files = FileManager.default.enumerator(atPath: root.path)?.allObjects as? [String] ?? []
        return files.filter { $0.hasSuffix(".tmp") || $0.contains(".tmp-") || $0.contains(".tmp.") }.sorted()
    }
}
