import Foundation
@testable import Iceberg
import TestSupport
import XCTest

final class LocalFileIOTests: XCTestCase {
    func testPathsURIsAndAtomicWrites() async throws {
        let dir = try TestEnvironment.temporaryDirectory("fileio")
        defer { try? FileManager.default.removeItem(at: dir) }
        let io = LocalFileIO()
        let location = "file://" + dir.path + "/a/b/c.bin"
        try await io.write(location, contents: [1, 2, 3, 4, 5])
        let whole = try await io.read(dir.path + "/a/b/c.bin")
        XCTAssertEqual(whole, [1, 2, 3, 4, 5])
        let part = try await io.read("file:" + dir.path + "/a/b/c.bin", offset: 1, length: 3)
        XCTAssertEqual(part, [2, 3, 4])
        let length = try await io.length(location)
        XCTAssertEqual(length, 5)
        try await io.write(location, contents: [9])
        let replaced = try await io.read(location)
        XCTAssertEqual(replaced, [9])
        // No temporary files are left next to the published one.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path + "/a/b"), ["c.bin"])
        try await io.delete(location)
        let exists = try await io.exists(location)
        XCTAssertFalse(exists)
        try await io.delete(location)  // deleting what is gone is not an error
    }

    func testErrorsNameTheLocation() async throws {
        let io = LocalFileIO()
        do {
            _ = try await io.read("file:///nonexistent-k2/x.avro")
            XCTFail("reading a missing file must fail")
        } catch let e as FileIOError {
            XCTAssertEqual(e.kind, .notFound)
            XCTAssertEqual(e.description, "file:///nonexistent-k2/x.avro: open: no such file or directory")
        }
        do {
            _ = try await io.read("/etc/hostname", offset: 0, length: 1 << 20)
            XCTFail("a short read must fail")
        } catch let e as FileIOError {
            XCTAssertTrue(e.description.hasPrefix("/etc/hostname: wanted 1048576 bytes at offset 0"), e.description)
        }
        do {
            try await io.write("s3://bucket/key", contents: [])
            XCTFail("an S3 location is not local")
        } catch let e as FileIOError {
            XCTAssertEqual(e.kind, .invalidLocation)
        }
        // A directory where the parent should be: the write fails cleanly, naming the location.
        do {
            try await io.write("/etc/hostname/x", contents: [1])
            XCTFail("writing under a file must fail")
        } catch let e as FileIOError {
            XCTAssertTrue(e.description.hasPrefix("/etc/hostname/x: "), e.description)
        }
    }
}
