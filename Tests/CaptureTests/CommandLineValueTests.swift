import K2CLI
import XCTest

/// The size and partition-selection syntax every program shares (K2CLI).
final class CommandLineValueTests: XCTestCase {
    func testByteSizeSpellingsAreOneBinaryMeaning() throws {
        for text in ["256M", "256m", "256MB", "256mb", "256MiB", "268435456", "268435456B", "0.25G"] {
            XCTAssertEqual(ByteSize.parse(text), 256 << 20, text)
        }
        XCTAssertEqual(ByteSize.parse("64K"), 65536)
        XCTAssertEqual(ByteSize.parse("1T"), 1 << 40)
        XCTAssertEqual(ByteSize.parse("1.5k"), 1536)
        for text in ["", "0", "-1", "12X", "M", "1.5", "1e3", "9999999999T", " MB", "0.0001K"] {
            XCTAssertNil(ByteSize.parse(text), text)
        }
        XCTAssertEqual(ByteSize(bytes: 256 << 20).description, "256MiB")
        XCTAssertEqual(ByteSize(bytes: 1000).description, "1000")
        XCTAssertThrowsError(try ByteSize(parsing: "12X", option: "--segment-bytes")) { error in
            XCTAssertTrue("\(error)".contains("--segment-bytes 12X"), "\(error)")
        }
    }

    func testPartitionSelection() throws {
        XCTAssertEqual(try PartitionSelection(parsing: "5-7,0,3,6", option: "--partitions").partitions, [0, 3, 5, 6, 7])
        XCTAssertEqual(try PartitionSelection(parsing: "0,3,5-7", option: "--partitions").description, "0,3,5-7")
        // Overlapping and repeated ranges merge; the widest range allowed, typed many times, is one million
        // partitions (fuzz-cli-values: fixtures/hostile/fuzz/fuzz-cli-values/partitions-range-of-a-million.txt).
        XCTAssertEqual(try PartitionSelection(parsing: "9,2-4,5-7,3-6,0,9-9", option: "--partitions").partitions, [0, 2, 3, 4, 5, 6, 7, 9])
        let wide = try PartitionSelection(parsing: Array(repeating: "0-999999", count: 2000).joined(separator: ","), option: "--partitions")
        XCTAssertEqual(wide.partitions.count, 1_000_000)
        XCTAssertEqual(wide.partitions.last, 999_999)
        XCTAssertEqual(wide.description, "0-999999")
        for text in ["", "a", "1,,2", "3-1", "-1", "0-2000000000", "1-"] {
            XCTAssertThrowsError(try PartitionSelection(parsing: text, option: "--partitions"), text) { error in
                XCTAssertTrue("\(error)".contains("--partitions"), "\(error)")
            }
        }
    }
}
