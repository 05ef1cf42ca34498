/// Exit codes shared by the four programs, so scripts can rely on them.
///
/// `k2-verify` gives 1 its own meaning (a parity mismatch was found); everywhere else 1 is a failure of
/// the job itself (something could not be delivered, written or read).
public enum K2ExitCode: Int32, Sendable {
    /// Done, nothing lost.
    case success = 0
    /// The job ran and found or caused a failure: undelivered messages, a verify mismatch, corrupt data.
    case failure = 1
    /// Could not start or could not check: bad arguments, unreachable broker or catalog, unreadable input.
    case unusable = 2
    /// Interrupted by SIGINT/SIGTERM after flushing what was done (re-run to resume).
    case interrupted = 130
}
