import Foundation
import Iceberg
import Parquet
import TestSupport
import XCTest

/// A small table shape for catalog and storage tests, rows written with our DataFileWriter and committed
/// with FastAppend, and a pyiceberg runner to read them back independently.
enum RemoteFixtures {
    static let table = TableIdentifier(namespace: ["market_data"], name: "trades")

    /// `id` (required long), `writer` (optional string), `payload` (optional binary).
    static func schema() -> Schema {
        Schema(fields: [
            NestedField(id: 1, name: "id", type: .long, required: true),
            NestedField(id: 2, name: "writer", type: .string),
            NestedField(id: 3, name: "payload", type: .binary),
        ])
    }

    static let properties = ["write.format.default": "parquet", "write.parquet.compression-codec": "zstd"]

    /// The payload of row `id`; the Python side computes the same bytes.
    static func payload(_ id: Int64) -> [UInt8] { Array("row-\(id)".utf8) + [UInt8](repeating: UInt8(id & 0xFF), count: Int(id % 7)) }
    static let pythonPayload = "def payload(i): return f'row-{i}'.encode() + bytes([i & 0xFF]) * (i % 7)"

    /// Writes rows `ids` by `writer` as one data file and appends it; returns the table after the commit.
    static func append(_ ids: Range<Int64>, writer: String, to table: Table, catalog: any Catalog) async throws -> Table {
        let files = try await dataFiles(ids, writer: writer, table: table)
        return try await FastAppend(catalog: catalog).commit(table: table, files: files, summary: ["k2.test.writer": writer])
    }

    static func dataFiles(_ ids: Range<Int64>, writer: String, table: Table) async throws -> [DataFile] {
        let fileWriter = try DataFileWriter(table: table)
        let values = Array(ids)
        try await fileWriter.write([
            ColumnData(.int64(values)),
            ColumnData(.byteArray(ByteArrayValues(strings: values.map { _ in writer }))),
            ColumnData(.byteArray(ByteArrayValues(values.map(payload)))),
        ], partition: [])
        return try await fileWriter.finish()
    }

    /// Runs `body` with pyiceberg's SqlCatalog `cat` on `uri` (SQLAlchemy form) and returns the last line
    /// printed; `payload(i)` is defined. Fails the test when Python fails.
    static func pyiceberg(_ body: String, catalogURI: String, warehouse: String, args: [String] = [],
                          environment: [String: String] = [:],
                          file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let script = """
            import sys, json
            from pyiceberg.catalog.sql import SqlCatalog
            cat = SqlCatalog("k2", uri=sys.argv[1], warehouse=sys.argv[2])
            \(pythonPayload)

            """ + body
        let result = try ProcessRunner.run(TestEnvironment.python, ["-c", script, catalogURI, warehouse] + args, environment: environment)
        guard result.status == 0 else {
            XCTFail("pyiceberg failed: \(result.stderrText)", file: file, line: line)
            return ""
        }
        return result.stdoutText.split(separator: "\n").last.map(String.init) ?? ""
    }

    /// pyiceberg's check that table `argv[3]` holds exactly the rows `argv[4]` (JSON id → writer), read by
    /// a full scan; prints the row count, the snapshot count, the length of the current snapshot's
    /// ancestry and its `total-records`.
    static let pythonCheckRows = """
        t = cat.load_table(sys.argv[3])
        a = t.scan().to_arrow()
        got = sorted(zip(a.column("id").to_pylist(), a.column("writer").to_pylist(), a.column("payload").to_pylist()))
        expected = json.loads(sys.argv[4])
        want = sorted((int(i), w, payload(int(i))) for i, w in expected.items())
        assert got == want, (len(got), len(want), got[:3], want[:3])
        chain = []
        s = t.current_snapshot()
        while s is not None:
            chain.append(s.snapshot_id)
            s = t.snapshot_by_id(s.parent_snapshot_id) if s.parent_snapshot_id is not None else None
        print(json.dumps({"rows": len(got), "snapshots": len(t.snapshots()), "chain": len(chain),
                          "total": t.current_snapshot().summary["total-records"]}))
        """
}

extension RemoteFixtures {
    /// `argv[4]` for `pythonCheckRows`.
    static func expectedJSON(_ rows: [Int64: String]) -> String {
        "{" + rows.keys.sorted().map { "\"\($0)\": \"\(rows[$0]!)\"" }.joined(separator: ", ") + "}"
    }
}
