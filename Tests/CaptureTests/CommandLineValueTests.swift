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
        for text in ["", "a", "1,,2", "3-1", "-1", "0-2000000000", "1-"] {
            XCTAssertThrowsError(try PartitionSelection(parsing: text, option: "--partitions"), text) { error in
                XCTAssertTrue("\(error)".contains("--partitions"), "\(error)")
            }
        }
    }
}
