import Foundation
@testable import SegmentLog
import TestSupport
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// A write the file system refuses (ENOSPC, or here EFBIG from RLIMIT_FSIZE, which fails `pwrite` the same way
/// without needing a full disk): a clear error naming the segment and offset, no partial block left behind,
/// and every synced record still readable.
final class WriteFailureTests: XCTestCase {
    func testRefusedWriteNamesTheFileLeavesNoPartialBlockAndKeepsSyncedRecords() throws {
        let dir = try TestEnvironment.temporaryDirectory("seg-efbig").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let records = LogFixtures.randomRecords(count: 400, seed: 11)
        let writer = try SegmentLogWriter(directory: dir, options: LogFixtures.options(codec: .none, blockBytes: 4000, segmentBytes: 1 << 30, fsync: .everyBlock),
                                          diagnostics: { _ in })
        for r in records.prefix(200) { try writer.append(r) }
        try writer.sync()
        let synced = writer.syncedSequences
        let path = try LogFixtures.segmentFiles(dir)[0]
        let sizeBefore = try SegmentFile.openRead(path).size()

        // Cap file sizes just above what is written, so the next block is cut part-way by the kernel.
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var saved = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved), 0)
        var capped = saved
        capped.rlim_cur = rlim_t(sizeBefore + 100)
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &capped), 0)
        var failure: Error?
        for r in records.suffix(200) {
            do { try writer.append(r) } catch { failure = error; break }
        }
        if failure == nil { do { try writer.sync() } catch { failure = error } }
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved), 0)
        signal(SIGXFSZ, previousHandler)

        let error = try XCTUnwrap(failure as? SegmentLogError, "\(String(describing: failure))")
        XCTAssertEqual(error.kind, .io)
        XCTAssertEqual(error.file, path)
        let offset = try XCTUnwrap(error.offset)
        XCTAssertTrue(offset >= sizeBefore && offset <= sizeBefore + 100, "\(error)")
        XCTAssertTrue("\(error)".contains("\(path) at byte offset \(offset)"), "\(error)")
        // The part-written block was cut off again: the file ends on the last whole block.
        XCTAssertEqual(try SegmentFile.openRead(path).size(), sizeBefore)

        // What was synced reads back, as a live segment with no torn tail.
        let (read, stats) = try LogFixtures.readAll(dir)
        XCTAssertEqual(stats.tornTails, 0)
        XCTAssertEqual(stats.corruptBlocksSkipped, 0)
        let perStream = LogFixtures.perStream(read)
        for (key, sequence) in synced {
            XCTAssertEqual(perStream[key]?.map(\.sequence), Array(1...sequence), "\(key)")
        }
        try writer.close()
    }

    /// A full disk (a real ENOSPC on a small tmpfs) when the writer starts a segment: the file it just created
    /// holds no data, so it is removed before the error returns instead of being left for the next writer.
    /// The records stay in the open block and are written once there is space again. Skipped where this
    /// process may not mount a tmpfs.
    func testNoSpaceForANewSegmentLeavesNoFileAndLosesNoRecord() throws {
        guard let mount = try TestEnvironment.mountTmpfs(bytes: 256 << 10, "seg-enospc") else {
            throw XCTSkip("cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN)")
        }
        defer { TestEnvironment.unmountTmpfs(mount) }
        let dir = mount.appendingPathComponent("log").path
        let writer = try SegmentLogWriter(directory: dir, options: LogFixtures.options(codec: .none, blockBytes: 1 << 20, segmentBytes: 1 << 30),
                                          diagnostics: { _ in })
        // Fill the file system.
        let filler = mount.appendingPathComponent("filler").path
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let chunk = [UInt8](repeating: 7, count: 4096)
        while chunk.withUnsafeBytes({ Glibc.write(fd, $0.baseAddress!, $0.count) }) > 0 {}
        close(fd)

        let records = LogFixtures.randomRecords(count: 20, seed: 5)
        for r in records { try writer.append(r) }
        XCTAssertThrowsError(try writer.flush()) { error in
            let e = error as? SegmentLogError
            XCTAssertEqual(e?.kind, .io, "\(error)")
            XCTAssertTrue(e?.file?.hasSuffix(".k2seg") == true && "\(error)".contains("No space left on device"), "\(error)")
        }
        XCTAssertEqual(try LogFixtures.segmentFiles(dir), [], "the segment created for the failed write was left behind")

        try FileManager.default.removeItem(atPath: filler)
        try writer.close()
        let (read, stats) = try LogFixtures.readAll(dir)
        XCTAssertEqual(read.count, records.count)
        XCTAssertEqual(stats.tornTails, 0)
    }
}
