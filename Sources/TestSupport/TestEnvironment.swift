import Foundation

/// Shared by the test targets: where the repository, the checker venv and the built tools are,
/// and how to run an independent checker and capture what it printed.
public enum TestEnvironment {
    /// The repository root, found from this source file's location (Tests run from any directory).
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// The Python interpreter of the checkers' venv (created by `scripts/setup.sh`).
    public static var python: String {
        repositoryRoot.appendingPathComponent(".venv/bin/python").path
    }

    public static var hasPythonCheckers: Bool {
        FileManager.default.isExecutableFile(atPath: python)
    }

    /// Programs started by the tests keep their state (k2-replay's resume checkpoints) in one temporary
    /// directory per test process, through K2_STATE_DIR, which children inherit: never in the user's
    /// ~/.local/state. A test that wants its own passes --state-dir.
    private static let isolatedStateDirectory: Void = {
        guard ProcessInfo.processInfo.environment["K2_STATE_DIR"] == nil else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("k2test-state-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        setenv("K2_STATE_DIR", directory.path, 1)
    }()

    /// A built executable of this package (`k2-replay`, ...), next to the running test bundle.
    public static func productPath(_ name: String) -> String {
        _ = isolatedStateDirectory
        let bundle = Bundle.main.bundleURL
        let candidates = [bundle.appendingPathComponent(name), bundle.deletingLastPathComponent().appendingPathComponent(name)]
        for candidate in candidates where FileManager.default.isExecutableFile(atPath: candidate.path) {
            return candidate.path
        }
        // `swift test` runs the xctest bundle from the build directory: look there.
        let buildDir = repositoryRoot.appendingPathComponent(".build/debug/\(name)")
        return buildDir.path
    }

    /// How many times a SIGKILL test kills its program: `standard` in the default suite, 50 with
    /// `K2_TORTURE=1` (the long runs docs/reliability.md records; minutes per test).
    public static func killRounds(_ standard: Int) -> Int {
        ProcessInfo.processInfo.environment["K2_TORTURE"] == "1" ? 50 : standard
    }

    /// A tmpfs of `bytes` mounted on a fresh temporary directory, for tests of a full disk (ENOSPC); nil when
    /// this process may not mount one (not root, or no CAP_SYS_ADMIN in a container): such tests skip then.
    /// Unmount with `unmountTmpfs`.
    public static func mountTmpfs(bytes: Int, _ prefix: String = "k2test-tmpfs") throws -> URL? {
        let url = try temporaryDirectory(prefix)
        let mount = try ProcessRunner.run("/usr/bin/env", ["mount", "-t", "tmpfs", "-o", "size=\(bytes)", "tmpfs", url.path])
        if mount.status != 0 {
            try? FileManager.default.removeItem(at: url)
            return nil
        }
        return url
    }

    /// Grows (or shrinks) a `mountTmpfs` file system in place, keeping its files: the disk an operator
    /// freed before a rerun. Throws when the remount fails.
    public static func resizeTmpfs(_ url: URL, bytes: Int) throws {
        let remount = try ProcessRunner.run("/usr/bin/env", ["mount", "-o", "remount,size=\(bytes)", url.path])
        guard remount.status == 0 else { throw TmpfsError("remount \(url.path): \(remount.stderrText)") }
    }

    /// Unmounts a `mountTmpfs` file system (its files go with it) and removes the mount point.
    public static func unmountTmpfs(_ url: URL) {
        _ = try? ProcessRunner.run("/usr/bin/env", ["umount", url.path])
        try? FileManager.default.removeItem(at: url)
    }

    /// A fresh temporary directory, removed by the caller (or left for inspection on failure).
    public static func temporaryDirectory(_ prefix: String = "k2test") throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// The outcome of a finished child process.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: Data
    public let stderr: Data
    public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    public var stderrText: String { String(decoding: stderr, as: UTF8.self) }
}

public enum ProcessRunner {
    /// Starts `executable` with its output discarded and returns at once: for tests that kill the child
    /// (SIGKILL at some point of its work) rather than wait for what it prints.
    /// `environment` is added to this process's own.
    public static func launchSilently(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Runs `executable` with `arguments` to completion, feeding `stdin` if given.
    /// Output is drained concurrently so a chatty child cannot block on a full pipe.
    @discardableResult
    public static func run(
        _ executable: String, _ arguments: [String], stdin: Data? = nil,
        environment: [String: String]? = nil, currentDirectory: URL? = nil
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = stdin == nil ? FileHandle.nullDevice : inPipe
        try process.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var out = Data(), err = Data()
        group.enter()
        DispatchQueue.global().async { out = outPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { err = errPipe.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        if let stdin {
            inPipe.fileHandleForWriting.write(stdin)
            try? inPipe.fileHandleForWriting.close()
        }
        process.waitUntilExit()
        group.wait()
        return ProcessResult(status: process.terminationStatus, stdout: out, stderr: err)
    }

    /// Runs a Python snippet with the checkers' venv; `args` are available as `sys.argv[1:]`.
    public static func python(_ script: String, _ args: [String] = [], stdin: Data? = nil) throws -> ProcessResult {
        try run(TestEnvironment.python, ["-c", script] + args, stdin: stdin)
    }
}

/// A tmpfs that could not be mounted or resized as asked.
public struct TmpfsError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
