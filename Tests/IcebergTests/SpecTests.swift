import Avro
import Foundation
@testable import Iceberg
import XCTest

/// Transforms and single-value serialization, against values from the Iceberg spec's appendix.
final class SpecTests: XCTestCase {
    func testBucketHashesMatchTheSpecExamples() throws {
        // Table spec, "Appendix B: 32-bit Hash Requirements".
        XCTAssertEqual(Murmur3.hash32(IcebergValue.int(34).bucketHashBytes()), 2017239379)
        XCTAssertEqual(Murmur3.hash32(IcebergValue.long(34).bucketHashBytes()), 2017239379)
        XCTAssertEqual(Murmur3.hash32(IcebergValue.date(17486).bucketHashBytes()), -653330422)
        XCTAssertEqual(Murmur3.hash32(IcebergValue.string("iceberg").bucketHashBytes()), 1210000089)
        XCTAssertEqual(Murmur3.hash32(IcebergValue.binary([0, 1, 2, 3]).bucketHashBytes()), -188683207)
        XCTAssertEqual(Murmur3.hash32(IcebergValue.timestamp(1_510_871_468_000_000).bucketHashBytes()), -2047944441)
        XCTAssertEqual(try PartitionTransform.bucket(16).apply(.int(34)), .int(Int32((2017239379 & Int64(Int32.max)) % 16)))
    }

    func testTimeTransforms() throws {
        let ts: IcebergValue = .timestamptz(1_764_100_000_000_000)  // 2025-11-25T19:46:40Z
        XCTAssertEqual(try PartitionTransform.day.apply(ts), .date(20417))
        XCTAssertEqual(try PartitionTransform.hour.apply(ts), .int(490_027))
        XCTAssertEqual(try PartitionTransform.month.apply(ts), .int(55 * 12 + 10))
        XCTAssertEqual(try PartitionTransform.year.apply(.date(20417)), .int(55))
        XCTAssertEqual(try PartitionTransform.day.apply(.timestamp(-1)), .date(-1))
        XCTAssertEqual(try PartitionTransform.truncate(10).apply(.int(-1)), .int(-10))
        XCTAssertEqual(try PartitionTransform.truncate(3).apply(.string("iceberg")), .string("ice"))
        XCTAssertEqual(PartitionTransform.days(year: 2025, month: 11, day: 25), 20417)
    }

    func testSingleValueSerialization() throws {
        XCTAssertEqual(IcebergValue.long(1).singleValueBytes(), [1, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(IcebergValue.int(-2).singleValueBytes(), [0xFE, 0xFF, 0xFF, 0xFF])
        XCTAssertEqual(IcebergValue.decimal(unscaled: [0x00, 0x00, 0x01, 0x00], scale: 2).singleValueBytes(), [0x01, 0x00])
        for (v, t) in [(IcebergValue.double(-2.5), IcebergType.double), (.string("é"), .string), (.date(20417), .date),
                       (.timestamptz(123), .timestamptz), (.boolean(true), .boolean)] {
            XCTAssertEqual(try IcebergValue(singleValue: v.singleValueBytes(), type: t), v)
        }
    }

    func testMetadataRoundTripKeepsUnknownMembers() throws {
        let text = """
            {"format-version":2,"table-uuid":"9c12d441-03fe-4693-9a96-a0705ddf69c1","location":"s3://b/t","last-sequence-number":3,
             "last-updated-ms":1602638573590,"last-column-id":3,"current-schema-id":1,
             "schemas":[{"type":"struct","schema-id":0,"fields":[{"id":1,"name":"x","required":true,"type":"long"}]},
                        {"type":"struct","schema-id":1,"identifier-field-ids":[1],"fields":[{"id":1,"name":"x","required":true,"type":"long"},
                         {"id":2,"name":"y","required":true,"type":"decimal(10, 2)","doc":"comment"},
                         {"id":3,"name":"z","required":false,"type":{"type":"list","element-id":4,"element":"string","element-required":false}}]}],
             "default-spec-id":0,"partition-specs":[{"spec-id":0,"fields":[{"name":"x_bucket","transform":"bucket[4]","source-id":1,"field-id":1000}]}],
             "last-partition-id":1000,"default-sort-order-id":3,
             "sort-orders":[{"order-id":3,"fields":[{"transform":"identity","source-id":2,"direction":"asc","null-order":"nulls-first"}]}],
             "properties":{"a":"b"},"current-snapshot-id":3055729675574597004,
             "snapshots":[{"snapshot-id":3055729675574597004,"sequence-number":1,"timestamp-ms":1555100955770,
                           "summary":{"operation":"append","k":"v"},"manifest-list":"s3://a/b/2.avro","schema-id":1}],
             "snapshot-log":[{"snapshot-id":3055729675574597004,"timestamp-ms":1555100955770}],
             "metadata-log":[],"statistics":[{"snapshot-id":1}]}
            """
        let m = try TableMetadata(json: try JSONValue.parse(text), location: "m.json")
        XCTAssertEqual(m.currentSnapshotId, 3055729675574597004)
        XCTAssertEqual(m.currentSchema.field(named: "y")?.type, .decimal(precision: 10, scale: 2))
        XCTAssertEqual(m.defaultSpec.fields[0].transform, .bucket(4))
        XCTAssertEqual(m.refs["main"]?.snapshotId, 3055729675574597004)
        XCTAssertEqual(m.extra.map(\.0), ["statistics"])
        let again = try TableMetadata(json: try JSONValue.parse(m.toJSON().serialized()), location: "m.json")
        XCTAssertEqual(again.toJSON(), m.toJSON())
        XCTAssertEqual(again.currentSchema, m.currentSchema)
        XCTAssertEqual(again.snapshots, m.snapshots)
    }

    func testSchemaMismatchNamesTheColumn() {
        let spark = BronzeFixtures.sparkSchema()
        XCTAssertNil(spark.mismatch(against: spark))
        var flink = spark
        for i in flink.fields.indices { flink.fields[i].required = true }
        XCTAssertEqual(spark.mismatch(against: flink), "column raw_bytes is optional, expected required")
        var retyped = spark
        retyped.fields[4].type = .timestamp
        XCTAssertEqual(spark.mismatch(against: retyped), "column kafka_timestamp is timestamptz, expected timestamp")
        var missing = spark
        missing.fields.removeLast()
        XCTAssertEqual(missing.mismatch(against: spark), "column ingestion_date is missing (expected optional date)")
    }

    func testRESTFormsOfRequirementsAndUpdates() throws {
        XCTAssertEqual(TableRequirement.assertRefSnapshotId(ref: "main", snapshotId: nil).toJSON().serialized(),
                       #"{"type":"assert-ref-snapshot-id","ref":"main","snapshot-id":null}"#)
        XCTAssertEqual(TableUpdate.setSnapshotRef(name: "main", snapshotId: 7, type: "branch").toJSON().serialized(),
                       #"{"action":"set-snapshot-ref","ref-name":"main","snapshot-id":7,"type":"branch"}"#)
        let s = Snapshot(snapshotId: 7, parentSnapshotId: 6, sequenceNumber: 2, timestampMs: 1000, manifestList: "file:///m.avro",
                         summary: ["operation": "append", "k": "v"], schemaId: 0)
        let update = TableUpdate.addSnapshot(s).toJSON()
        XCTAssertEqual(try Snapshot(json: update["snapshot"]!), s)
    }
}
