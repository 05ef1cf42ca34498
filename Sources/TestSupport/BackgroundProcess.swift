import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A server started for a test (moto_server, the REST catalog test server), stopped by `stop()` or when the
/// object goes away. Its stderr goes to `logFile` and its stdout to `logFile` + ".out", so a failing test
/// can show them and a server can announce its port on its first stdout line.
public final class BackgroundProcess: @unchecked Sendable {
    public let process = Process()
    public let logFile: URL
    public let outputFile: URL

    /// `logFile` defaults to a fresh file under the temporary directory.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:], logFile: URL? = nil) throws {
        let logFile = logFile ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("k2-test-\(URL(fileURLWithPath: executable).lastPathComponent)-\(UUID().uuidString).log")
        self.logFile = logFile
        self.outputFile = logFile.appendingPathExtension("out")
        FileManager.default.createFile(atPath: logFile.path, contents: nil)
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: logFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    public var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// The first line the process printed on stdout (a port), waiting up to `seconds` for it.
    public func firstLine(seconds: Double = 90) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let text = try? String(contentsOf: outputFile, encoding: .utf8), let newline = text.firstIndex(of: "\n") {
                return String(text[..<newline])
            }
            if !process.isRunning { return nil }
            usleep(100_000)
        }
        return nil
    }

    /// Kills the server. SIGKILL, not SIGTERM: a child started from a concurrency thread inherits that
    /// thread's blocked-signal mask, so SIGTERM may stay pending forever.
    public func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// Loopback ports for test servers, one implementation for every test target.
public enum LocalPort {
    /// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's pick for port 0).
    public static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits until something accepts connections on 127.0.0.1:`port`; false after `seconds`.
    public static func waitUntilListening(_ port: Int, seconds: Double = 60, while alive: () -> Bool = { true }) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && alive() {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            close(fd)
            if connected { return true }
            usleep(100_000)
        }
        return false
    }
}
