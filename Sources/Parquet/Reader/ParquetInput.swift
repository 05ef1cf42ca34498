import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Random-access bytes of one Parquet file. Synchronous: the reader asks for the footer, then for whole
/// column chunks, so an object-store implementation can serve each `read` with one ranged GET.
public protocol ParquetInput {
    /// Names the file in errors (a path or URI).
    var name: String { get }
    var size: Int64 { get }
    /// Exactly `length` bytes at `offset`, or an error.
    func read(offset: Int64, length: Int) throws -> [UInt8]
}

/// A file on local disk, read with pread (safe to share between readers on one thread at a time).
public final class ParquetFileInput: ParquetInput {
    public let name: String
    public let size: Int64
    private let fd: Int32

    public init(path: String) throws {
        name = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ParquetError.io(file: path, "cannot open: \(String(cString: strerror(errno)))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let message = String(cString: strerror(errno))
            _ = close(fd)
            throw ParquetError.io(file: path, "cannot stat: \(message)")
        }
        size = Int64(st.st_size)
    }

    deinit { _ = close(fd) }

    public func read(offset: Int64, length: Int) throws -> [UInt8] {
        guard offset >= 0, length >= 0, offset + Int64(length) <= size else {
            throw ParquetError.corrupt(file: name, "read of \(length) bytes at offset \(offset) is beyond the file's \(size) bytes")
        }
        var out = [UInt8](repeating: 0, count: length)
        var done = 0
        try out.withUnsafeMutableBytes { buf in
            while done < length {
                let n = pread(fd, buf.baseAddress! + done, length - done, off_t(offset) + off_t(done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ParquetError.io(file: name, "read at offset \(offset + Int64(done)) failed: \(String(cString: strerror(errno)))")
                }
                if n == 0 { throw ParquetError.corrupt(file: name, "file ended at \(offset + Int64(done)) while reading \(length) bytes at \(offset)") }
                done += n
            }
        }
        return out
    }
}

/// A file held in memory.
public struct ParquetMemoryInput: ParquetInput {
    public let name: String
    public let bytes: [UInt8]
    public var size: Int64 { Int64(bytes.count) }

    public init(_ bytes: [UInt8], name: String = "<memory>") {
        self.bytes = bytes
        self.name = name
    }

    public func read(offset: Int64, length: Int) throws -> [UInt8] {
        guard offset >= 0, length >= 0, offset + Int64(length) <= size else {
            throw ParquetError.corrupt(file: name, "read of \(length) bytes at offset \(offset) is beyond the file's \(size) bytes")
        }
        return Array(bytes[Int(offset)..<Int(offset) + length])
    }
}
