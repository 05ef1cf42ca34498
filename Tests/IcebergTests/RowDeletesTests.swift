import Parquet
import XCTest
@testable import Iceberg

/// The spec's rules for which delete files apply to a data file, and how deleted rows are marked.
final class RowDeletesTests: XCTestCase {
    func file(_ path: String, _ content: DataFile.Content, partition: [IcebergValue?] = [.date(19_762)], specId: Int = 0,
              equalityIds: [Int]? = nil, referenced: String? = nil) -> DataFile {
        DataFile(filePath: path, specId: specId, partition: partition, recordCount: 10, fileSizeInBytes: 100,
                 content: content, equalityIds: equalityIds, referencedDataFile: referenced)
    }

    func testDeleteFilesApplyBySequenceNumberAndPartition() {
        let day = PartitionSpec(specId: 0, fields: [PartitionField(sourceId: 7, fieldId: 1000, name: "ingestion_date_day", transform: .day)])
        let unpartitioned = PartitionSpec(specId: 1, fields: [])
        let data = FileScanTask(dataFile: file("d1.parquet", .data), snapshotId: 1, sequenceNumber: 5)
        let deletes = [
            ScanDeleteFile(file: file("pos-same-seq", .positionDeletes), sequenceNumber: 5),          // applies (>=)
            ScanDeleteFile(file: file("pos-older", .positionDeletes), sequenceNumber: 4),             // older: no
            ScanDeleteFile(file: file("pos-other-day", .positionDeletes, partition: [.date(19_763)]), sequenceNumber: 9),
            ScanDeleteFile(file: file("pos-other-file", .positionDeletes, referenced: "d2.parquet"), sequenceNumber: 9),
            ScanDeleteFile(file: file("eq-same-seq", .equalityDeletes, equalityIds: [3, 4]), sequenceNumber: 5),   // not (>)
            ScanDeleteFile(file: file("eq-newer", .equalityDeletes, equalityIds: [3, 4]), sequenceNumber: 6),      // applies
            ScanDeleteFile(file: file("eq-global", .equalityDeletes, partition: [], specId: 1, equalityIds: [4]), sequenceNumber: 8),
        ]
        let applied = TableScan.deletes(deletes, applyingTo: data, specs: [day, unpartitioned]).map(\.file.filePath)
        XCTAssertEqual(applied, ["pos-same-seq", "eq-newer", "eq-global"])
    }

    func testMaskMarksPositionsInRangeAndEqualValues() throws {
        let deletes = RowDeletes(
            positions: [2, 9, 10, 13, 2],
            equality: [.init(fieldIds: [3, 4], keys: [[.int(1), .long(105)], [.int(1), nil]])])
        let partitions = ColumnData(.int32([1, 1, 1, 2, 1]))
        let offsets = ColumnData(.int64([104, 105, 106, 107]), validity: [true, true, false, true, true])
        // Rows 10..<15 of the file: position 10 and 13 deleted; row 11 (1, 105) and row 12 (1, null) by value.
        let mask = try deletes.deleted(firstRow: 10, rowCount: 5, columns: [3: (partitions, .int), 4: (offsets, .long)])
        XCTAssertEqual(mask, [true, true, true, true, false])
        XCTAssertNil(try RowDeletes(positions: [0, 1]).deleted(firstRow: 2, rowCount: 3, columns: [:]))

        XCTAssertEqual(offsets.removing([false, true, true, false, false]), ColumnData(.int64([104, 106, 107])))
        XCTAssertEqual(offsets.removing([false, true, false, false, true]),
                       ColumnData(.int64([104, 106]), validity: [true, false, true]))
        let strings = ColumnData(.byteArray(ByteArrayValues(strings: ["a", "b", "c"]))).removing([true, false, true])
        XCTAssertEqual(strings, ColumnData(.byteArray(ByteArrayValues(strings: ["b"]))))
    }

    /// Delete files a scan cannot apply are refused by name, never skipped (a skipped delete reads rows the
    /// table no longer holds).
    func testDeletionVectorsAndNonParquetDeletesAreRefusedByName() {
        var vector = file("s3://w/t/data/dv-1.puffin", .positionDeletes, referenced: "s3://w/t/data/a.parquet")
        vector.fileFormat = "PUFFIN"
        vector.contentOffset = 4
        XCTAssertThrowsError(try TableScan.checkApplicable(vector, table: "market_data.t", manifest: "m.avro")) { error in
            XCTAssertTrue("\(error)".contains("deletion vector") && "\(error)".contains("dv-1.puffin"), "\(error)")
        }
        var avro = file("s3://w/t/data/pos.avro", .positionDeletes)
        avro.fileFormat = "AVRO"
        XCTAssertThrowsError(try TableScan.checkApplicable(avro, table: "market_data.t", manifest: "m.avro")) { error in
            XCTAssertTrue("\(error)".contains("AVRO delete file s3://w/t/data/pos.avro"), "\(error)")
        }
        XCTAssertThrowsError(try TableScan.checkApplicable(file("eq.parquet", .equalityDeletes), table: "market_data.t", manifest: "m.avro"))
        XCTAssertNoThrow(try TableScan.checkApplicable(file("eq.parquet", .equalityDeletes, equalityIds: [3]), table: "market_data.t", manifest: "m.avro"))
    }
}
