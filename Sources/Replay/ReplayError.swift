/// Failures that end a replay, each mapped to an exit code by the program.
public enum ReplayError: Error, CustomStringConvertible {
    /// Bad arguments or settings (exit 2).
    case usage(String)
    /// Cannot reach or read something the replay needs (exit 2).
    case unusable(String)
    /// The replay ran and lost or could not read something: undelivered messages, corrupt data (exit 1).
    case failed(String)

    public var description: String {
        switch self {
        case .usage(let text), .unusable(let text), .failed(let text): return text
        }
    }
}
