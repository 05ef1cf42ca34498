import Foundation

/// Writes human-facing diagnostics and progress to stderr, never stdout (stdout carries reports and data).
public enum StandardError {
    private static let lock = NSLock()

    public static func print(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

/// Writes a JSON report to stdout with sorted keys, so two runs diff cleanly.
public enum JSONReport {
    public static func write<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}
