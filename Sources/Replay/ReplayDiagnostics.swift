/// What a replay has to say while it runs, for the program to print (or a caller to collect).
public struct ReplayNote: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// What the run is doing: ranges read, tables created, done. Left out by `--quiet`.
        case info
        /// What the run did that an operator needs to know even with `--quiet`: resumed from a checkpoint,
        /// created a topic, what the log reader skipped.
        case notice
        /// Something the user should know even with `--quiet`: lost offsets, unreplayable frames.
        case warning
        /// A progress line, about once a second.
        case progress
    }

    public var kind: Kind
    public var text: String

    public init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }
}

/// Where a replay's notes go. Called on the replay's thread(s); the sink must not block for long.
public typealias ReplayDiagnostics = @Sendable (ReplayNote) -> Void
