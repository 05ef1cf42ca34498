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

/// Writes a program's JSON report to stdout with sorted keys, so two runs diff cleanly. Every report carries
/// the program that wrote it, the toolkit's version and the report's own format version (raised when a key
/// changes meaning or goes away), so a script can tell what it is reading. Keys are snake_case throughout.
public enum JSONReport {
    public static func write<T: Encodable>(_ value: T, program: String, format: Int) throws {
        FileHandle.standardOutput.write(try encode(value, program: program, format: format))
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    public static func encode<T: Encodable>(_ value: T, program: String, format: Int) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(HeadedReport(program: program, format: format, body: value))
    }

    /// The report's own keys beside the three header keys, in one JSON object.
    private struct HeadedReport<Body: Encodable>: Encodable {
        var program: String
        var format: Int
        var body: Body

        enum CodingKeys: String, CodingKey {
            case program
            case toolkitVersion = "toolkit_version"
            case reportFormat = "report_format"
        }

        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(program, forKey: .program)
            try container.encode(ToolkitVersion.current, forKey: .toolkitVersion)
            try container.encode(format, forKey: .reportFormat)
            try body.encode(to: encoder)
        }
    }
}
