import Codecs
import FuzzSupport
@testable import Parquet

// A Parquet file's bytes through the public reader: magic, the Thrift compact footer (`ParquetFileMetaData`),
// the schema, row-group statistics (a predicate prunes by them), then every column chunk: page headers, codecs,
// levels and value decoders. The same bytes also go straight into the page decoders the writer never produces
// (DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY) and the RLE/bit-packed hybrid, since the
// seeds written by this library reach those only through mutated encodings.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzMain.bytes(data, size)
    do {
        let reader = try ParquetReader(input: ParquetMemoryInput(bytes, name: "fuzz.parquet"))
        _ = try reader.rowGroups(matching: [.int64(.name("offset"), 10...20), .int32(.name("partition"), 0...1)])
        for group in 0..<reader.rowGroupCount {
            for column in 0..<reader.schema.columns.count { _ = try? reader.readColumn(rowGroup: group, column: column) }
        }
    } catch {}
    let raw = UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size)
    var cursor = ByteCursor(raw)
    _ = try? DeltaDecoding.binaryPacked(&cursor)
    let count = size > 0 ? Int(raw[0]) : 0
    for physicalType in [ParquetPhysicalType.byteArray] {
        var sink = ValueSink(physicalType: physicalType, width: 0)
        cursor = ByteCursor(raw)
        _ = try? DeltaDecoding.lengthByteArray(&cursor, count: count, into: &sink)
        sink = ValueSink(physicalType: physicalType, width: 0)
        cursor = ByteCursor(raw)
        _ = try? DeltaDecoding.byteArray(&cursor, count: count, into: &sink)
    }
    if size > 1, var decoder = try? RLEHybridDecoder(ByteCursor(raw, position: 2), bitWidth: Int(raw[1] % 33)) {
        var out: [UInt32] = []
        _ = try? decoder.decode(count: count * 8, into: &out)
    }
    return 0
}

/// Files written by `ParquetWriter`: the Bronze benchmark table under every codec, dictionary on and off,
/// small pages and row groups; and a table of every physical type with nulls.
func makeSeeds() throws -> [(name: String, bytes: [UInt8])] {
    var seeds: [(name: String, bytes: [UInt8])] = []
    let codecs: [CompressionCodec] = [.none, .snappy, .gzip(level: 6), .zstd(level: 3), .lz4]
    for codec in codecs {
        for dictionary in [true, false] {
            var options = ParquetWriterOptions()
            options.compression = codec
            options.dictionaryEnabled = dictionary
            options.rowGroupRows = 40
            options.pageBytes = 512
            let output = ParquetMemoryOutput()
            let writer = try ParquetWriter(schema: ParquetBronzeBenchmark.schema, options: options, output: output)
            try writer.write(ParquetBronzeBenchmark.batch(rows: 60, firstOffset: 10))
            _ = try writer.close()
            seeds.append(("bronze-\(codec)-\(dictionary ? "dict" : "plain").parquet", output.bytes))
        }
    }
    let schema = ParquetSchema([
        .boolean("b"), .int32("partition"), .int64("offset", .required),
        ParquetColumn(name: "f", physicalType: .float), ParquetColumn(name: "d", physicalType: .double),
        ParquetColumn(name: "s", physicalType: .byteArray, logicalType: .string),
        ParquetColumn(name: "u", physicalType: .fixedLenByteArray, logicalType: .uuid, typeLength: 16),
    ])
    var options = ParquetWriterOptions()
    options.compression = .none
    let output = ParquetMemoryOutput()
    let writer = try ParquetWriter(schema: schema, options: options, output: output)
    let rows = 9
    try writer.write([
        ColumnData(.boolean((1..<rows).map { $0 % 2 == 0 }), validity: (0..<rows).map { $0 != 3 }),
        ColumnData(.int32((0..<rows).map { Int32($0 % 3) })),
        ColumnData(.int64((0..<rows).map { Int64($0) + 10 })),
        ColumnData(.float((0..<rows).map { Float($0) / 2 })),
        ColumnData(.double((0..<rows).map { Double($0) * 1.5 })),
        ColumnData(.byteArray(ByteArrayValues(strings: (0..<rows).map { "v\($0 % 4)" }))),
        ColumnData(.fixedLenByteArray(FixedLenByteArrayValues(width: 16, bytes: [UInt8](repeating: 0xAB, count: 16 * rows)))),
    ])
    _ = try writer.close()
    seeds.append(("every-type.parquet", output.bytes))
    return seeds
}

FuzzMain.run(testOneInput, seeds: makeSeeds)
