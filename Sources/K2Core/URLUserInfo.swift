/// The user-info part of a URL typed by a person (`scheme://user:secret@host...`). Credentials never ride
/// in addresses here: whoever takes one refuses user info, and every message about an address shows it
/// through `redacted`, so a secret typed by mistake is neither printed nor passed on.
public enum URLUserInfo {
    /// The user info of `scheme://[userinfo@]host...`, or nil (also for text without `://`).
    public static func of(_ url: String) -> Substring? {
        guard let authorityStart = afterScheme(url[...]) else { return nil }
        let authority = url[authorityStart...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return nil }
        return authority[..<at]
    }

    /// `url` with any user info replaced by `***`, safe to print.
    public static func redacted(_ url: String) -> String {
        guard let info = of(url) else { return url }
        return String(url[..<info.startIndex]) + "***" + String(url[info.endIndex...])
    }

    /// Whether a broker list `HOST:PORT[,HOST:PORT...]` (each entry perhaps `PROTOCOL://HOST:PORT`) carries
    /// user info: broker addresses never contain `@`, and librdkafka would log and resolve it as a host name.
    public static func inBrokerList(_ list: String) -> Bool {
        list.contains("@")
    }

    /// A broker list with everything before each entry's `@` (after any `PROTOCOL://`) replaced by `***`.
    public static func redactedBrokerList(_ list: String) -> String {
        list.split(separator: ",", omittingEmptySubsequences: false).map { entry -> String in
            guard let at = entry.lastIndex(of: "@") else { return String(entry) }
            let start = afterScheme(entry) ?? entry.startIndex
            return String(entry[..<start]) + "***" + String(entry[at...])
        }.joined(separator: ",")
    }

    /// The index just past the first `://`, or nil.
    private static func afterScheme(_ text: Substring) -> Substring.Index? {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index...].hasPrefix("://") { return text.index(index, offsetBy: 3) }
            index = text.index(after: index)
        }
        return nil
    }
}
