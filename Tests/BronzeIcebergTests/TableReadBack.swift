import Bronze
import Foundation
import TestSupport
import XCTest

/// One Bronze row as the independent readers return it (timestamps as µs integers, date as days).
struct ReadRow: Equatable, Comparable, CustomStringConvertible {
    var partition: Int64
    var offset: Int64?
    var kafkaTimestamp: Int64
    var ingestionTimestamp: Int64
    var ingestionDate: Int64
    var topic: String
    var rawHex: String
    /// fastavro's decoding of an exchange value: "BTCUSDT:7000" (Binance symbol:trade id) or "XBT/USD:price" (Kraken).
    var decoded: String?

    static func < (a: ReadRow, b: ReadRow) -> Bool {
        (a.partition, a.offset ?? -1, a.rawHex) < (b.partition, b.offset ?? -1, b.rawHex)
    }
    var description: String { "[\(partition)] @\(offset.map(String.init) ?? "null") \(rawHex.prefix(24))" }

    init(_ row: [Any]) {
        partition = (row[0] as? NSNumber)?.int64Value ?? -1
        offset = (row[1] as? NSNumber)?.int64Value
        kafkaTimestamp = (row[2] as? NSNumber)?.int64Value ?? -1
        ingestionTimestamp = (row[3] as? NSNumber)?.int64Value ?? -1
        ingestionDate = (row[4] as? NSNumber)?.int64Value ?? -1
        topic = row[5] as? String ?? ""
        rawHex = row[6] as? String ?? ""
        decoded = row.count > 7 ? row[7] as? String : nil
    }
}

/// What pyiceberg (through the same SQLite catalog) and duckdb (`iceberg_scan` of the table's current
/// metadata file, its own Iceberg implementation) read from a table.
struct TableReadBack {
    var fields: [[Any]]
    var spec: [[Any]]
    var properties: [String: String]
    var arrowTypes: [String: String]
    var rows: [ReadRow]
    var duckRows: [ReadRow]
    var duckTypes: [String: String]
    var snapshotSummaries: [[String: String]]
    var metadataLocation: String

    func fieldType(_ name: String) -> String? { fields.first { $0[1] as? String == name }?[2] as? String }
    func fieldRequired(_ name: String) -> Bool? { fields.first { $0[1] as? String == name }?[3] as? Bool }

    static let script = #"""
    import sys, json, io
    import pyarrow as pa, duckdb, fastavro
    from pyiceberg.catalog.sql import SqlCatalog
    db, wh, name, schemas, scripts_dir = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5]
    parsed = {k: fastavro.parse_schema(json.loads(v)) for k, v in schemas.items()}
    cat = SqlCatalog("k2", uri="sqlite:///" + db, warehouse=wh)
    t = cat.load_table(name)
    out = {"fields": [[f.field_id, f.name, str(f.field_type), f.required] for f in t.schema().fields],
           "spec": [[f.name, str(f.transform), f.source_id, f.field_id] for f in t.spec().fields],
           "properties": dict(t.properties), "metadata_location": t.metadata_location,
           "snapshots": [dict(s.summary.additional_properties) | {"operation": str(s.summary.operation)} for s in t.snapshots()]}
    def decode(topic, raw):
        if len(raw) < 5 or raw[0] != 0: return None
        for exchange in ("binance", "kraken"):
            if exchange in topic and exchange in parsed:
                try:
                    buf = io.BytesIO(raw[5:]); d = fastavro.schemaless_reader(buf, parsed[exchange])
                    if buf.read() != b"": return None
                except Exception:
                    return None
                return f"{d['symbol']}:{d['trade_id']}" if exchange == "binance" else f"{d['pair']}:{d['price']}"
        return None
    def rows(tbl):
        cols = {n: tbl.column(n) for n in tbl.column_names}
        def ints(n, t):
            return cols[n].cast(t).to_pylist()
        k = ints("kafka_timestamp", pa.int64()); i = ints("ingestion_timestamp", pa.int64()); d = ints("ingestion_date", pa.int32())
        p = cols["partition"].to_pylist(); o = cols["offset"].to_pylist(); tp = cols["topic"].to_pylist(); r = cols["raw_bytes"].to_pylist()
        return [[p[x], o[x], k[x], i[x], d[x], tp[x], r[x].hex(), decode(tp[x], r[x])] for x in range(tbl.num_rows)]
    arrow = t.scan().to_arrow()
    out["arrow_types"] = {f.name: str(f.type) for f in arrow.schema}
    out["rows"] = rows(arrow)
    # duckdb's own Iceberg reader (manifests, deletes, column projection), not only its Parquet reader.
    sys.path.insert(0, scripts_dir)
    from duckdb_iceberg_read import connect, sql_string
    con = connect(None, False)
    if t.current_snapshot() is not None:
        duck = con.sql("SELECT * FROM iceberg_scan(" + sql_string(t.metadata_location) + ")").fetch_arrow_table()
        out["duck_types"] = {f.name: str(f.type) for f in duck.schema}
        out["duck_rows"] = rows(duck)
    else:
        out["duck_types"] = {}; out["duck_rows"] = []
    print(json.dumps(out))
    """#

    static func read(database: String, warehouse: String, table: String) throws -> TableReadBack {
        let schemas = ["binance": BronzeSchemas.binanceRawTrade, "kraken": BronzeSchemas.krakenRawTrade]
        let schemaJSON = String(decoding: try JSONSerialization.data(withJSONObject: schemas), as: UTF8.self)
        let scripts = TestEnvironment.repositoryRoot.appendingPathComponent("scripts").path
        let result = try ProcessRunner.python(script, [database, warehouse, table, schemaJSON, scripts])
        guard result.status == 0 else { throw CheckerError(message: "pyiceberg/duckdb read failed: \(result.stderrText)") }
        guard let object = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any] else {
            throw CheckerError(message: "checker printed no JSON: \(result.stdoutText.prefix(500))")
        }
        func strings(_ value: Any?) -> [String: String] {
            (value as? [String: Any] ?? [:]).mapValues { "\($0)" }
        }
        return TableReadBack(
            fields: object["fields"] as? [[Any]] ?? [], spec: object["spec"] as? [[Any]] ?? [],
            properties: strings(object["properties"]), arrowTypes: strings(object["arrow_types"]),
            rows: (object["rows"] as? [[Any]] ?? []).map(ReadRow.init).sorted(),
            duckRows: (object["duck_rows"] as? [[Any]] ?? []).map(ReadRow.init).sorted(),
            duckTypes: strings(object["duck_types"]),
            snapshotSummaries: (object["snapshots"] as? [[String: Any]] ?? []).map(strings),
            metadataLocation: object["metadata_location"] as? String ?? "")
    }
}

struct CheckerError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

enum ReplayRunner {
    /// Runs the built k2-replay with `arguments`.
    static func run(_ arguments: [String]) throws -> ProcessResult {
        try ProcessRunner.run(TestEnvironment.productPath("k2-replay"), arguments)
    }
}
