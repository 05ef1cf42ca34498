import Codecs
import FuzzSupport
import Iceberg

// An Iceberg table metadata file (`vN.metadata.json`, plain or gzip) through `TableMetadata.parse`, as every
// catalog read does; what parses is serialized again and parsed back (a commit writes what it read), and the
// lookups a scan and an append make are run on it.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzMain.bytes(data, size)
    guard let metadata = try? TableMetadata.parse(bytes, location: "fuzz/v1.metadata.json") else { return 0 }
    _ = metadata.currentSchema
    if let snapshotId = metadata.currentSnapshotId { _ = metadata.snapshot(id: snapshotId) }
    _ = metadata.snapshot(asOf: 1_700_000_000_000)
    if let again = try? metadata.serialized() {
        _ = try? TableMetadata.parse(again, location: "fuzz/v2.metadata.json")
    }
    return 0
}

/// Metadata written by the library: a new Bronze-like table (v1 and v2, partitioned and sorted), and gzip.
func makeSeeds() throws -> [(name: String, bytes: [UInt8])] {
    let schema = Schema(fields: [
        NestedField(id: 1, name: "exchange", type: .string, required: true),
        NestedField(id: 2, name: "offset", type: .long),
        NestedField(id: 3, name: "price", type: .decimal(precision: 18, scale: 8)),
        NestedField(id: 4, name: "ingested", type: .timestamptz),
        NestedField(id: 5, name: "tags", type: .list(ListType(elementId: 6, element: .string, elementRequired: false))),
    ], identifierFieldIds: [1])
    let spec = PartitionSpec(fields: [PartitionField(sourceId: 4, fieldId: 1000, name: "ingested_day", transform: .day)])
    var seeds: [(name: String, bytes: [UInt8])] = []
    for version in [1, 2] {
        let metadata = TableMetadata.new(location: "/warehouse/bronze/trades", schema: schema, spec: spec,
                                         sortOrder: SortOrder(fields: [SortField(sourceId: 2)]),
                                         properties: ["write.format.default": "parquet"], formatVersion: version)
        let bytes = try metadata.serialized()
        seeds.append(("new-v\(version).metadata.json", bytes))
        seeds.append(("new-v\(version).gz.metadata.json", try BlockCompressor().compress(bytes, codec: .gzip(level: 6))))
    }
    return seeds
}

FuzzMain.run(testOneInput, seeds: makeSeeds)
