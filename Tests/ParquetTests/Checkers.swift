import Foundation
import TestSupport
import XCTest

/// Runs the Python checkers (pyarrow, duckdb) on a file and decodes their JSON output.
enum Checkers {
    /// pyarrow's view of a file: every value as text (see SampleTable.render), and per row group and
    /// column the statistics, encodings and codec from the footer; field ids and key-value metadata.
    static let pyarrowDump = #"""
import sys, json, decimal
import pyarrow as pa, pyarrow.parquet as pq
path = sys.argv[1]
pf = pq.ParquetFile(path)
t = pf.read()
def text(v, typ=None):
    if v is None: return None
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, (bytes, bytearray)): return bytes(v).hex()
    if isinstance(v, decimal.Decimal): return str(int(v.scaleb(typ.scale)))
    if isinstance(v, float): return repr(v)
    if isinstance(v, str) and typ is None: return v.encode().hex()
    return str(v)
def render(col, typ):
    if pa.types.is_timestamp(typ): col = col.cast(pa.int64())
    elif pa.types.is_date32(typ): col = col.cast(pa.int32())
    return [text(v, typ) for v in col.to_pylist()]
values = {f.name: render(t.column(f.name), f.type) for f in t.schema}
md = pf.metadata
rgs = []
for i in range(md.num_row_groups):
    rg = md.row_group(i)
    cols = []
    for j in range(rg.num_columns):
        c = rg.column(j)
        st = c.statistics
        mm = st is not None and st.has_min_max
        cols.append({"name": c.path_in_schema, "compression": c.compression, "encodings": list(c.encodings),
                     "null_count": st.null_count if st is not None and st.has_null_count else None,
                     "min": text(st.min_raw) if mm else None, "max": text(st.max_raw) if mm else None,
                     "num_values": c.num_values})
    rgs.append({"num_rows": rg.num_rows, "columns": cols})
ids = {}
for f in pf.schema_arrow:
    if f.metadata and b"PARQUET:field_id" in f.metadata:
        ids[f.name] = int(f.metadata[b"PARQUET:field_id"])
kv = {k.decode(): v.decode() for k, v in (md.metadata or {}).items() if k != b"ARROW:schema"}
types = {f.name: str(f.type) for f in t.schema}
print(json.dumps({"values": values, "row_groups": rgs, "field_ids": ids, "kv": kv, "num_rows": md.num_rows,
                  "types": types, "created_by": md.created_by}))
"""#

    static func run(_ script: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        guard TestEnvironment.hasPythonCheckers else {
            throw XCTSkip("checker venv missing at \(TestEnvironment.python); run scripts/setup.sh")
        }
        let result = try ProcessRunner.python(script, args)
        guard result.status == 0 else {
            XCTFail("checker failed (\(result.status)): \(result.stderrText)", file: file, line: line)
            throw CheckerFailed()
        }
        guard let json = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any] else {
            XCTFail("checker printed no JSON object: \(result.stdoutText.prefix(500))", file: file, line: line)
            throw CheckerFailed()
        }
        return json
    }

    struct CheckerFailed: Error {}

    /// A JSON array of strings-or-null as Swift optionals.
    static func texts(_ any: Any?) -> [String?] {
        guard let array = any as? [Any] else { return [] }
        return array.map { $0 as? String }
    }
}
