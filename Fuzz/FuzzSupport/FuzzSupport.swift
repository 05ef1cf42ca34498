import Foundation
#if canImport(Glibc)
import Glibc
#endif

// The one piece every fuzz target shares: libFuzzer's driver, seed writing and a scratch directory.
// Built only with `K2_FUZZ=1` and `-sanitize=fuzzer` (see `make fuzz`): the driver lives in libFuzzer.

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

public typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

public enum FuzzMain {
    /// Runs libFuzzer on `callback`. With the single argument `-k2_seeds=DIR` it writes `seeds()` (inputs made
    /// by the library's own writers) as files into DIR instead, and exits.
    public static func run(_ callback: FuzzCallback, seeds: () throws -> [(name: String, bytes: [UInt8])] = { [] }) -> Never {
        let arguments = CommandLine.arguments
        if arguments.count == 2, arguments[1].hasPrefix("-k2_seeds=") {
            let directory = String(arguments[1].dropFirst("-k2_seeds=".count))
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                let made = try seeds()
                for seed in made {
                    try Data(seed.bytes).write(to: URL(fileURLWithPath: directory + "/" + seed.name))
                }
                print("wrote \(made.count) seeds to \(directory)")
                exit(0)
            } catch {
                print("cannot write seeds: \(error)")
                exit(1)
            }
        }
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
    }

    /// The input as an array.
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// A fresh directory for this process under /dev/shm (memory-backed; falls back to the temp directory).
    public static func scratchDirectory(_ name: String) -> String {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let path = "\(base)/k2-fuzz-\(name)-\(getpid())"
        try? FileManager.default.removeItem(atPath: path)
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Replaces the file at `path` with `bytes` (or removes it when `bytes` is nil).
    public static func put(_ bytes: [UInt8]?, at path: String) {
        unlink(path)
        guard let bytes else { return }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot create \(path)")
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let n = write(fd, buffer.baseAddress! + done, buffer.count - done)
                precondition(n > 0, "cannot write \(path)")
                done += n
            }
        }
        close(fd)
    }

    /// Removes every entry of `directory` (not the directory itself).
    public static func empty(_ directory: String) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            unlink(directory + "/" + name)
        }
    }
}
