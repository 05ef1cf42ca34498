import Exchanges
import K2CLI
import K2Core

/// Structured logs on stderr: one JSON object per line (`ts`, `level`, `event`, then the event's fields),
/// so `jq` and log shippers read them without a grammar.
public enum CaptureLog {
    public static func info(_ event: String, _ fields: [(String, Any)] = []) { write("info", event, fields) }
    public static func warn(_ event: String, _ fields: [(String, Any)] = []) { write("warn", event, fields) }
    public static func error(_ event: String, _ fields: [(String, Any)] = []) { write("error", event, fields) }

    private static func write(_ level: String, _ event: String, _ fields: [(String, Any)]) {
        var line = "{\"ts\":\(JSONText.quoted(TimeParser.rfc3339(epochNanoseconds: WallClock.nanoseconds()))),\"level\":\"\(level)\",\"event\":\(JSONText.quoted(event))"
        for (key, value) in fields {
            line += ",\(JSONText.quoted(key)):"
            switch value {
            case let number as Int: line += "\(number)"
            case let number as Int64: line += "\(number)"
            case let number as UInt64: line += "\(number)"
            case let number as Double: line += "\(number)"
            case let flag as Bool: line += flag ? "true" : "false"
            default: line += JSONText.quoted("\(value)")
            }
        }
        StandardError.print(line + "}")
    }
}
