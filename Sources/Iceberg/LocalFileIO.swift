import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Files on the local filesystem, addressed by absolute paths or `file:` URIs.
///
/// `write` publishes atomically: the bytes go to a temporary file in the same directory, are fsynced, and
/// the file is renamed into place (then the directory is fsynced), so a reader sees the whole file or none.
public struct LocalFileIO: FileIO {
    public init() {}

    /// The filesystem path of a location: `/a/b`, `file:/a/b`, `file:///a/b`.
    public static func path(of location: String) throws -> String {
        if location.hasPrefix("/") { return location }
        if location.hasPrefix("file://") {
            let rest = location.dropFirst(7)
            guard rest.hasPrefix("/") else {
                throw FileIOError(.invalidLocation, location: location, message: "file:// URI with a host is not supported")
            }
            return String(rest).removingPercentEncoding ?? String(rest)
        }
        if location.hasPrefix("file:/") { return String(location.dropFirst(5)) }
        throw FileIOError(.invalidLocation, location: location, message: "not a local path or file: URI")
    }

    static func error(_ code: Int32, _ location: String, _ action: String) -> FileIOError {
        let text = String(cString: strerror(code))
        switch code {
        case ENOENT: return FileIOError(.notFound, location: location, message: "\(action): no such file or directory")
        case EACCES, EPERM: return FileIOError(.permissionDenied, location: location, message: "\(action): permission denied")
        case ENOSPC, EDQUOT: return FileIOError(.noSpace, location: location, message: "\(action): no space left on device")
        default: return FileIOError(.io, location: location, message: "\(action): \(text)")
        }
    }

    public func read(_ location: String) async throws -> [UInt8] {
        let path = try Self.path(of: location)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.error(errno, location, "open") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw Self.error(errno, location, "stat") }
        return try Self.readFully(fd, offset: 0, length: Int(st.st_size), location: location)
    }

    public func read(_ location: String, offset: Int64, length: Int) async throws -> [UInt8] {
        let path = try Self.path(of: location)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.error(errno, location, "open") }
        defer { close(fd) }
        let bytes = try Self.readFully(fd, offset: offset, length: length, location: location)
        guard bytes.count == length else {
            throw FileIOError(.io, location: location, message: "wanted \(length) bytes at offset \(offset), file ends after \(bytes.count)")
        }
        return bytes
    }

    private static func readFully(_ fd: Int32, offset: Int64, length: Int, location: String) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, length - done, off_t(offset) + off_t(done)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw error(errno, location, "read")
            }
            if n == 0 { break }
            done += n
        }
        if done < length { buffer.removeLast(length - done) }
        return buffer
    }

    public func length(_ location: String) async throws -> Int64 {
        var st = stat()
        guard stat(try Self.path(of: location), &st) == 0 else { throw Self.error(errno, location, "stat") }
        return Int64(st.st_size)
    }

    public func exists(_ location: String) async throws -> Bool {
        var st = stat()
        if stat(try Self.path(of: location), &st) == 0 { return true }
        if errno == ENOENT || errno == ENOTDIR { return false }
        throw Self.error(errno, location, "stat")
    }

    public func delete(_ location: String) async throws {
        let path = try Self.path(of: location)
        if unlink(path) != 0 && errno != ENOENT { throw Self.error(errno, location, "delete") }
    }

    public func write(_ location: String, contents: [UInt8]) async throws {
        let path = try Self.path(of: location)
        let directory = (path as NSString).deletingLastPathComponent
        try Self.makeDirectories(directory, location: location)
        let temporary = directory + "/." + ((path as NSString).lastPathComponent) + ".tmp-" + UUID().uuidString.lowercased()
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.error(errno, location, "create") }
        var ok = false
        defer {
            if !ok { unlink(temporary) }
        }
        do {
            var done = 0
            while done < contents.count {
                let n = contents.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, contents.count - done) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw Self.error(errno, location, "write")
                }
                done += n
            }
            guard fsync(fd) == 0 else { throw Self.error(errno, location, "fsync") }
        } catch {
            close(fd)
            throw error
        }
        guard close(fd) == 0 else { throw Self.error(errno, location, "close") }
        guard rename(temporary, path) == 0 else { throw Self.error(errno, location, "rename") }
        ok = true
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }

    private static func makeDirectories(_ directory: String, location: String) throws {
        var st = stat()
        if stat(directory, &st) == 0 { return }
        let parent = (directory as NSString).deletingLastPathComponent
        if parent != directory && !parent.isEmpty { try makeDirectories(parent, location: location) }
        if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw error(errno, location, "create directory \(directory)") }
    }
}
