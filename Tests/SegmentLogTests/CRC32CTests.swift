import CK2Native
import SegmentLog
import XCTest

final class CRC32CTests: XCTestCase {
    func testCheckValue() {
        // The CRC-32C check value (RFC 3720 / the CRC catalogue): "123456789" -> 0xE3069283.
        let check = Array("123456789".utf8)
        XCTAssertEqual(CRC32C.checksum(check), 0xE306_9283)
        XCTAssertEqual(check.withUnsafeBytes { k2_crc32c_software(0, $0.baseAddress, $0.count) }, 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)  // RFC 3720 B.4: 32 bytes of zeros
    }

    func testHardwareAndSoftwareAgreeAndChain() {
        var rng = SystemRandomNumberGenerator()
        for length in [0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4099] {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let software = bytes.withUnsafeBytes { k2_crc32c_software(0, $0.baseAddress, $0.count) }
            XCTAssertEqual(CRC32C.checksum(bytes), software, "length \(length)")
            let split = length / 3
            let chained = CRC32C.checksum(Array(bytes[split...]), seed: CRC32C.checksum(Array(bytes[..<split])))
            XCTAssertEqual(chained, software, "chained, length \(length)")
        }
    }
}
