import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// File-scope wrappers: inside ParquetFileOutput, `close` and `write` name the methods.
private func posixClose(_ fd: Int32) -> Int32 { close(fd) }
private func posixWrite(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int { write(fd, p, n) }

/// Where a `ParquetWriter` sends the file's bytes, in order.
public protocol ParquetOutput: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// Collects the file in memory (for object-store uploads and tests).
public final class ParquetMemoryOutput: ParquetOutput {
    public private(set) var bytes: [UInt8] = []
    public init(reservingCapacity capacity: Int = 0) { bytes.reserveCapacity(capacity) }
    public func write(_ bytes: UnsafeRawBufferPointer) throws { self.bytes.append(contentsOf: bytes) }
}

/// Writes the file to a local path (created or truncated). Call `close()` after the writer's `close()`.
public final class ParquetFileOutput: ParquetOutput {
    public let path: String
    private var fd: Int32

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ParquetError.io(file: path, "cannot create: \(String(cString: strerror(errno)))") }
    }

    deinit { if fd >= 0 { _ = posixClose(fd) } }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd >= 0 else { throw ParquetError.io(file: path, "write after close") }
        var done = 0
        while done < bytes.count {
            let n = posixWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ParquetError.io(file: path, "write failed: \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    /// Flushes to stable storage (when `sync`) and closes the file.
    public func close(sync: Bool = false) throws {
        guard fd >= 0 else { return }
        defer { fd = -1 }
        if sync && fsync(fd) != 0 { throw ParquetError.io(file: path, "fsync failed: \(String(cString: strerror(errno)))") }
        if posixClose(fd) != 0 { throw ParquetError.io(file: path, "close failed: \(String(cString: strerror(errno)))") }
    }
}
