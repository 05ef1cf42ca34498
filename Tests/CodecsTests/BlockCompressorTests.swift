import Codecs
import XCTest

final class BlockCompressorTests: XCTestCase {
    private let codecs: [CompressionCodec] = [.none, .zstd(level: 3), .zstd(level: 19), .lz4, .snappy, .gzip(level: 6), .deflate(level: 1)]

    func testRoundTripOfRandomAndRepetitiveBlocks() throws {
        var rng = SystemRandomNumberGenerator()
        let compressor = BlockCompressor()
        for size in [0, 1, 17, 4096, 200_000] {
            let random = (0..<size).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let repetitive = (0..<size).map { UInt8(truncatingIfNeeded: $0 % 7) }
            for input in [random, repetitive] {
                for codec in codecs {
                    let packed = try compressor.compress(input, codec: codec)
                    let sized = try compressor.decompress(packed, codec: codec, uncompressedSize: input.count)
                    XCTAssertEqual(sized, input, "\(codec) with size \(size)")
                    if codec != .lz4 {
                        let unsized = try compressor.decompress(packed, codec: codec)
                        XCTAssertEqual(unsized, input, "\(codec) without size, \(size) bytes")
                    }
                }
            }
        }
    }

    func testCompressionShrinksRepetitiveData() throws {
        let input = [UInt8](repeating: 65, count: 100_000)
        let compressor = BlockCompressor()
        for codec in codecs where codec != .none {
            XCTAssertLessThan(try compressor.compress(input, codec: codec).count, 5_000, "\(codec)")
        }
    }

    func testCorruptInputIsAnErrorNotACrash() throws {
        let compressor = BlockCompressor()
        let input = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for codec in codecs where codec != .none {
            var packed = try compressor.compress(input, codec: codec)
            packed.removeLast(packed.count / 2)
            XCTAssertThrowsError(try compressor.decompress(packed, codec: codec, uncompressedSize: input.count), "\(codec)")
        }
    }

    func testWrongDeclaredSizeIsDetected() throws {
        let compressor = BlockCompressor()
        let input = [UInt8](repeating: 1, count: 1000)
        for codec in codecs {
            let packed = try compressor.compress(input, codec: codec)
            XCTAssertThrowsError(try compressor.decompress(packed, codec: codec, uncompressedSize: 999), "\(codec)")
        }
    }

    func testCodecNamesParseAsTyped() {
        XCTAssertEqual(CompressionCodec(name: "zstd"), .zstd(level: 3))
        XCTAssertEqual(CompressionCodec(name: "zstd-9"), .zstd(level: 9))
        XCTAssertEqual(CompressionCodec(name: "LZ4"), .lz4)
        XCTAssertEqual(CompressionCodec(name: "none"), CompressionCodec.none)
        XCTAssertNil(CompressionCodec(name: "lz4-3"))
        XCTAssertNil(CompressionCodec(name: "brotli"))
    }

    func testCRC32MatchesTheKnownCheckValue() {
        XCTAssertEqual(CRC32.checksum(Array("123456789".utf8)), 0xCBF4_3926)
    }
}
