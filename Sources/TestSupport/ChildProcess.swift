import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a child to completion with posix_spawn and wait4, its output going to temporary files.
///
/// For commands that leave daemons behind (`pg_ctl start`): Foundation's `Process` was seen never to notice
/// such a child's exit, and a daemon holding a pipe open would keep a pipe read from ever ending; a plain
/// wait4 depends on neither. `runMeasuringPeakMemory` also reports the child's own peak resident set.
public enum ChildProcess {
    public struct Result: Sendable {
        /// The exit status, or 128 + the signal that ended it.
        public let status: Int32
        public let stdout: String
        public let stderr: String
        /// With `runMeasuringPeakMemory`: the program's peak resident set; otherwise not meaningful (see there).
        public let peakResidentKiB: Int
        /// stdout and stderr together, stdout first.
        public var output: String { stdout + stderr }
    }

    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outPath = directory.appendingPathComponent("stdout").path, errPath = directory.appendingPathComponent("stderr").path
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)

        // A clean signal mask and default dispositions: the calling thread may block signals the child
        // (and the daemons it starts) must receive.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var all = sigset_t()
        sigfillset(&all)
        sigdelset(&all, SIGKILL)
        sigdelset(&all, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let env = ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { "\($0.key)=\($0.value)" }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECHILD) }
        }
        // WIFEXITED / WEXITSTATUS, spelled out (the C macros are not imported).
        let signal = status & 0x7F
        return Result(status: signal == 0 ? (status >> 8) & 0xFF : 128 + signal,
                      stdout: (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "",
                      peakResidentKiB: Int(usage.ru_maxrss))
    }

    /// Runs `executable` and measures its own peak resident set. Not with wait4's rusage of a child this
    /// process spawns: posix_spawn shares this process's memory until the exec (vfork), and Linux counts that
    /// memory into the child's `ru_maxrss`, so a large test process would be measured instead of the program.
    /// A small Python process forks (a copy of its own few megabytes), execs the program and reports wait4's
    /// figure for it.
    public static func runMeasuringPeakMemory(_ executable: String, _ arguments: [String]) throws -> Result {
        let report = FileManager.default.temporaryDirectory.appendingPathComponent("peak-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: report) }
        let measured = try run("/usr/bin/python3", ["-c", """
            import os, sys
            pid = os.fork()
            if pid == 0:
                os.execv(sys.argv[2], sys.argv[2:])
            _, status, usage = os.wait4(pid, 0)
            open(sys.argv[1], "w").write(str(usage.ru_maxrss))
            sys.exit(os.waitstatus_to_exitcode(status) if os.waitstatus_to_exitcode(status) >= 0 else 128 - os.waitstatus_to_exitcode(status))
            """, report.path, executable] + arguments)
        let peak = Int((try? String(contentsOf: report, encoding: .utf8)) ?? "") ?? -1
        return Result(status: measured.status, stdout: measured.stdout, stderr: measured.stderr, peakResidentKiB: peak)
    }
}
