import Foundation

/// Reads a program's JSON report for the conventions every report follows (issue 15): snake_case keys at
/// every depth, and the header keys `program`, `toolkit_version`, `report_format`.
public enum JSONReportKeys {
    /// Every object key in `object` (a `JSONSerialization` result), at every depth.
    public static func allKeys(_ object: Any) -> [String] {
        switch object {
        case let dictionary as [String: Any]:
            return dictionary.keys.sorted() + dictionary.values.flatMap { allKeys($0) }
        case let array as [Any]:
            return array.flatMap { allKeys($0) }
        default:
            return []
        }
    }

    /// The keys that are not snake_case (lower-case ASCII letters, digits and `_`).
    public static func keysNotSnakeCase(_ object: Any) -> [String] {
        allKeys(object).filter { key in
            key.isEmpty || !key.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        }
    }
}
