import Foundation
import Parquet

/// Writes Iceberg position delete files (table spec, "Position Delete Files"): Parquet rows of `file_path`
/// and `pos` (reserved field ids 2147483546 and 2147483545), sorted by path then position, each removing one
/// row of a data file. One delete file per data file, in the data file's partition, with `file_path` lower
/// and upper bounds both equal to that file's path, so readers that prune by bounds (Java) apply it to that
/// file alone. Format version 2 tables only.
public enum PositionDeleteWriter {
    public static let filePathFieldId: Int32 = 2_147_483_546
    public static let positionFieldId: Int32 = 2_147_483_545

    /// Writes the delete file for `positions` (0-based row positions) of `dataFile` and returns its entry,
    /// ready for `FastAppend.commit(table:files:deleteFiles:)`.
    public static func write(table: Table, removing positions: [Int64], from dataFile: DataFile) async throws -> DataFile {
        guard table.metadata.formatVersion >= 2 else {
            throw IcebergError.invalidArgument("table \(table.identifier) is format-version \(table.metadata.formatVersion); position deletes need format-version 2")
        }
        guard dataFile.content == .data else {
            throw IcebergError.invalidArgument("\(dataFile.filePath) is a delete file; position deletes apply to data files")
        }
        let sorted = Array(Set(positions)).sorted()
        guard let first = sorted.first, let last = sorted.last else {
            throw IcebergError.invalidArgument("no positions to delete from \(dataFile.filePath)")
        }
        guard first >= 0, last < dataFile.recordCount else {
            throw IcebergError.invalidArgument("position \(first < 0 ? first : last) is outside \(dataFile.filePath) (\(dataFile.recordCount) rows)")
        }
        let schema = ParquetSchema([
            .string("file_path", .required, fieldId: filePathFieldId),
            .int64("pos", .required, fieldId: positionFieldId),
        ])
        let output = ParquetMemoryOutput()
        let writer = try ParquetWriter(schema: schema, options: ParquetWriterOptions(), output: output)
        let paths = ColumnData(.byteArray(ByteArrayValues(strings: repeatElement(dataFile.filePath, count: sorted.count))))
        try writer.write([paths, ColumnData(.int64(sorted))])
        let result = try writer.close()
        let location = "\(table.metadata.dataDirectory)/00000-0-\(UUID().uuidString.lowercased())-deletes.parquet"
        try await table.io.write(location, contents: output.bytes)

        let pathBytes = Array(dataFile.filePath.utf8)
        return DataFile(
            filePath: location, fileFormat: "PARQUET", specId: dataFile.specId, partition: dataFile.partition,
            recordCount: Int64(sorted.count), fileSizeInBytes: result.fileSize,
            columnSizes: [Int(filePathFieldId): result.columns[0].compressedSize, Int(positionFieldId): result.columns[1].compressedSize],
            valueCounts: [Int(filePathFieldId): Int64(sorted.count), Int(positionFieldId): Int64(sorted.count)],
            nullValueCounts: [Int(filePathFieldId): 0, Int(positionFieldId): 0],
            // Full (untruncated) path bounds: a reader may use them to match the delete file to data files.
            lowerBounds: [Int(filePathFieldId): pathBytes, Int(positionFieldId): IcebergValue.long(first).singleValueBytes()],
            upperBounds: [Int(filePathFieldId): pathBytes, Int(positionFieldId): IcebergValue.long(last).singleValueBytes()],
            splitOffsets: result.rowGroupOffsets, sortOrderId: nil,
            content: .positionDeletes, referencedDataFile: dataFile.filePath)
    }
}
