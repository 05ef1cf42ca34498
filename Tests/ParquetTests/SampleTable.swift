import Foundation
import Parquet
import XCTest

/// A deterministic table with every type the writer supports, nulls in the optional columns, negative
/// numbers, bytes >= 0x80 (to catch signed byte comparison) and a low-cardinality column for dictionaries.
/// `expected` renders each value as text the way the Python checkers print it.
struct SampleTable {
    let rows: Int
    let schema: ParquetSchema
    let columns: [ColumnData]

    static let floatingColumns: Set<String> = ["f", "d"]

    init(rows: Int, seed: UInt64 = 42) {
        self.rows = rows
        var rng = SplitMix64(seed: seed)
        schema = ParquetSchema([
            .boolean("b", .optional, fieldId: 1),
            .int32("i32", .required, fieldId: 2),
            .int64("i64", .optional, fieldId: 3),
            .float("f", .optional, fieldId: 4),
            .double("d", .required, fieldId: 5),
            .binary("bin", .optional, fieldId: 6),
            .string("s", .optional, fieldId: 7),
            .date("dt", .required, fieldId: 8),
            .timestamp("tsu", unit: .micros, isAdjustedToUTC: true, .optional, fieldId: 9),
            .timestamp("tsm", unit: .millis, isAdjustedToUTC: false, .required, fieldId: 10),
            .decimal("dec", precision: 9, scale: 2, .optional, fieldId: 11),
            .int32("lowcard", .required, fieldId: 12),
        ])
        func validity(_ every: Int) -> [Bool] { (0..<rows).map { $0 % every != 1 } }
        let v7 = validity(7), v5 = validity(5), v4 = validity(4), v3 = validity(3), v6 = validity(6), v9 = validity(9), v8 = validity(8)
        var bools: [Bool] = [], i32: [Int32] = [], i64: [Int64] = [], f: [Float] = [], d: [Double] = []
        var bin = ByteArrayValues(), s = ByteArrayValues(), dt: [Int32] = [], tsu: [Int64] = [], tsm: [Int64] = []
        var dec = FixedLenByteArrayValues(width: 4), low: [Int32] = []
        for r in 0..<rows {
            if v7[r] { bools.append(r % 3 == 0) }
            i32.append(Int32(truncatingIfNeeded: rng.next()) / 3)
            if v5[r] { i64.append(Int64(bitPattern: rng.next()) >> Int64(r % 40)) }
            if v4[r] { f.append(Float(Int32(truncatingIfNeeded: rng.next() % 200_000) - 100_000) / 64) }
            d.append(Double(Int64(bitPattern: rng.next()) >> 20) / 1024.0)
            if v3[r] {
                let n = Int(rng.next() % 31)
                bin.append((0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
            }
            if v6[r] { s.append(contentsOf: "sym-\(r % 13)-é".utf8) }
            dt.append(Int32(19_000 + r % 400))
            if v9[r] { tsu.append(1_700_000_000_000_000 + Int64(r) * 1_234_567) }
            tsm.append(1_600_000_000_000 - Int64(r) * 7_777)
            if v8[r] {
                let unscaled = Int32(truncatingIfNeeded: rng.next() % 1_999_999_999) - 999_999_999
                let be = UInt32(bitPattern: unscaled).bigEndian
                withUnsafeBytes(of: be) { dec.bytes.append(contentsOf: $0) }
            }
            low.append(Int32(r % 5) - 2)
        }
        columns = [
            ColumnData(.boolean(bools), validity: v7),
            ColumnData(.int32(i32)),
            ColumnData(.int64(i64), validity: v5),
            ColumnData(.float(f), validity: v4),
            ColumnData(.double(d)),
            ColumnData(.byteArray(bin), validity: v3),
            ColumnData(.byteArray(s), validity: v6),
            ColumnData(.int32(dt)),
            ColumnData(.int64(tsu), validity: v9),
            ColumnData(.int64(tsm)),
            ColumnData(.fixedLenByteArray(dec), validity: v8),
            ColumnData(.int32(low)),
        ]
    }

    /// Column `c` rendered as the checkers print it: nil for null, decimals as unscaled integers,
    /// binary as lowercase hex, dates/timestamps as their integer.
    func expected(_ c: Int) -> [String?] {
        SampleTable.render(columns[c], column: schema.columns[c])
    }

    /// Renders values as the pyarrow dump prints them: strings as text, other byte arrays as hex, decimals
    /// in fixed-width bytes as their unscaled integer (big-endian two's complement).
    static func render(_ data: ColumnData, column: ParquetColumn? = nil) -> [String?] {
        let asText = column?.logicalType == .string
        var isDecimal = false
        if case .decimal = column?.logicalType { isDecimal = true }
        var texts: [String] = []
        switch data.values {
        case .boolean(let v): texts = v.map { $0 ? "true" : "false" }
        case .int32(let v): texts = v.map { String($0) }
        case .int64(let v): texts = v.map { String($0) }
        case .float(let v): texts = v.map { String(Double($0)) }
        case .double(let v): texts = v.map { String($0) }
        case .byteArray(let v): texts = (0..<v.count).map { asText ? v.string(at: $0) : hex(v[$0]) }
        case .fixedLenByteArray(let v) where !isDecimal && column != nil:
            texts = (0..<v.count).map { hex(v[$0]) }
        case .fixedLenByteArray(let v):
            texts = (0..<v.count).map { i in
                // big-endian two's complement -> integer
                var x: Int64 = (v[i].first ?? 0) & 0x80 != 0 ? -1 : 0
                for b in v[i] { x = (x << 8) | Int64(b) }
                return String(x)
            }
        }
        guard let validity = data.validity else { return texts }
        var out: [String?] = []
        var k = 0
        for present in validity {
            if present { out.append(texts[k]); k += 1 } else { out.append(nil) }
        }
        return out
    }

    static func hex<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits = Array("0123456789abcdef")
        var s = ""
        for b in bytes { s.append(digits[Int(b >> 4)]); s.append(digits[Int(b & 15)]) }
        return s
    }

    /// Rows `range` of a column (for per-row-group expectations).
    func slice(_ c: Int, _ range: Range<Int>) -> [String?] { Array(expected(c)[range]) }
}

struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Compares two columns row by row and reports the first difference (XCTAssertEqual would print both
/// columns in full).
func assertSameColumn(_ actual: ColumnData, _ expected: ColumnData, _ label: String, file: StaticString = #filePath, line: UInt = #line) {
    let a = SampleTable.render(actual), e = SampleTable.render(expected)
    if a.count != e.count {
        XCTFail("\(label): \(a.count) rows, expected \(e.count)", file: file, line: line)
        return
    }
    if let i = a.indices.first(where: { a[$0] != e[$0] }) {
        XCTFail("\(label): row \(i) is \(a[i] ?? "null"), expected \(e[i] ?? "null")", file: file, line: line)
        return
    }
    if actual != expected {
        XCTFail("\(label): same rows, but the representation differs (validity nil vs all true, or value kind)", file: file, line: line)
    }
}
