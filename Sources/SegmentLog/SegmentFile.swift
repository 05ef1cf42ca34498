#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A segment file opened with POSIX calls: positional reads and writes, fsync, truncate.
final class SegmentFile {
    let path: String
    private(set) var fd: Int32

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    deinit { if fd >= 0 { Glibc.close(fd) } }

    static func openRead(_ path: String) throws -> SegmentFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SegmentLogError(.io, file: path, "cannot open: \(errnoText())") }
        return SegmentFile(path: path, fd: fd)
    }

    /// `openRead`, but nil when the file does not exist (deleted since it was listed).
    static func openReadIfPresent(_ path: String) throws -> SegmentFile? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 && errno == ENOENT { return nil }
        guard fd >= 0 else { throw SegmentLogError(.io, file: path, "cannot open: \(errnoText())") }
        return SegmentFile(path: path, fd: fd)
    }

    static func openReadWrite(_ path: String) throws -> SegmentFile {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw SegmentLogError(.io, file: path, "cannot open for writing: \(errnoText())") }
        return SegmentFile(path: path, fd: fd)
    }

    /// Creates a new file; fails if it exists (two writers must never share a name).
    static func create(_ path: String) throws -> SegmentFile {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SegmentLogError(.io, file: path, "cannot create: \(errnoText())") }
        return SegmentFile(path: path, fd: fd)
    }

    func size() throws -> Int64 {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw SegmentLogError(.io, file: path, "fstat: \(errnoText())") }
        return Int64(st.st_size)
    }

    /// Reads up to `count` bytes at `offset` into `buffer` (resized); returns the number read (short at EOF).
    @discardableResult
    func read(at offset: Int64, count: Int, into buffer: inout [UInt8]) throws -> Int {
        if buffer.count < count { buffer.append(contentsOf: repeatElement(0, count: count - buffer.count)) }
        var done = 0
        while done < count {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SegmentLogError(.io, file: path, offset: offset, "read: \(errnoText())")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SegmentLogError(.io, file: path, offset: offset + Int64(done), "write: \(errnoText())")
            }
            done += n
        }
    }

    func sync() throws {
        guard fdatasync(fd) == 0 else { throw SegmentLogError(.io, file: path, "fdatasync: \(errnoText())") }
    }

    func truncate(to size: Int64) throws {
        guard ftruncate(fd, off_t(size)) == 0 else { throw SegmentLogError(.io, file: path, "ftruncate: \(errnoText())") }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// Makes renames, creations and deletions in `directory` durable.
func syncDirectory(_ directory: String) throws {
    let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { throw SegmentLogError(.io, file: directory, "cannot open directory: \(errnoText())") }
    defer { close(fd) }
    guard fsync(fd) == 0 else { throw SegmentLogError(.io, file: directory, "fsync directory: \(errnoText())") }
}

/// Wall clock, nanoseconds since the Unix epoch.
@inline(__always) func wallClockNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

@inline(__always) func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
