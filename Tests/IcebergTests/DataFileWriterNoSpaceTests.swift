import Foundation
@testable import Iceberg
import Parquet
import TestSupport
import XCTest

/// A data file that cannot be written for lack of space (a real ENOSPC, on a small tmpfs warehouse): the
/// writer's hidden `.<name>.parquet.tmp-<uuid>` is removed before the error returns, whether the failure
/// comes while rows are written (a row group flushed) or when the file is finished (the last row group and
/// the footer). Skipped where this process may not mount a tmpfs.
final class DataFileWriterNoSpaceTests: XCTestCase {
    func testOutOfSpaceLeavesNoHiddenTemporary() async throws {
        guard let mount = try TestEnvironment.mountTmpfs(bytes: 1 << 20, "iceberg-enospc") else {
            throw XCTSkip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
        }
        defer { TestEnvironment.unmountTmpfs(mount) }
        let catalogDirectory = try TestEnvironment.temporaryDirectory("iceberg-enospc-catalog")
        defer { try? FileManager.default.removeItem(at: catalogDirectory) }
        let catalog = try await SQLCatalog.open(connection: try SQLiteConnection(path: catalogDirectory.appendingPathComponent("catalog.db").path),
                                                name: "k2", warehouse: "file://" + mount.path, io: LocalFileIO())
        try await catalog.createNamespace(["market_data"], properties: [:])
        // Row groups flushed while writing (small row groups), or only when the file is finished (one row group).
        for (name, rowGroupBytes) in [("flushed_while_writing", "65536"), ("flushed_at_finish", "134217728")] {
            var props = BronzeFixtures.sparkProperties
            props["write.parquet.compression-codec"] = "uncompressed"
            props["write.parquet.row-group-size-bytes"] = rowGroupBytes
            let table = try await catalog.createTable(TableIdentifier(namespace: ["market_data"], name: name),
                                                      schema: BronzeFixtures.sparkSchema(), spec: BronzeFixtures.sparkSpec,
                                                      sortOrder: .unsorted, properties: props, location: nil)
            let writer = try DataFileWriter(table: table)
            var failure: Error?
            do {
                // About 3 MB of rows into a 1 MiB file system.
                for start in stride(from: Int64(0), to: 60_000, by: 5_000) {
                    try await writer.write(Self.batch(offsets: start..<start + 5_000), partition: [.date(BronzeFixtures.baseDay)])
                }
                _ = try await writer.finish()
            } catch {
                failure = error
            }
            XCTAssertNotNil(failure, "\(name): 3 MB fit in a 1 MiB file system?")
            XCTAssertTrue("\(failure.map { "\($0)" } ?? "")".contains("No space left on device"), "\(name): \(String(describing: failure))")
            let left = FileManager.default.enumerator(atPath: mount.path)?.compactMap { $0 as? String }.filter { $0.contains(".tmp-") } ?? []
            XCTAssertEqual(left, [], "\(name): hidden temporaries left behind")
            // Whatever was written of this table goes, so the next case has the space again.
            try? FileManager.default.removeItem(atPath: try LocalFileIO.path(of: table.metadata.dataDirectory))
        }
    }

    /// Rows of 60 to 70 bytes with distinct raw bytes (poorly compressible, no dictionary).
    static func batch(offsets: Range<Int64>) -> [ColumnData] {
        let offs = Array(offsets)
        return [
            ColumnData(.byteArray(ByteArrayValues(offs.map { o in (0..<24).map { UInt8(truncatingIfNeeded: (o &* 2654435761) >> ($0 % 8)) &+ UInt8($0) } }))),
            ColumnData(.byteArray(ByteArrayValues(strings: offs.map { "binance.trades.\($0 % 7)" }))),
            ColumnData(.int32(offs.map { Int32($0 % 3) })),
            ColumnData(.int64(offs)),
            ColumnData(.int64(offs.map { BronzeFixtures.baseMicros + $0 * 1000 })),
            ColumnData(.int64(offs.map { BronzeFixtures.baseMicros + $0 })),
            ColumnData(.int32(offs.map { _ in BronzeFixtures.baseDay })),
        ]
    }
}
