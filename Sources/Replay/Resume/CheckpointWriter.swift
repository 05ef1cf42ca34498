import Foundation

/// Writes a running replay's periodic checkpoints on a queue of its own, so that a slow `fsync` does not
/// stall the thread that paces or produces: `bench:kafka` saw one take 60 ms right after the benchmark had
/// written large files, which cost a `--rate 10000` run 6% of one second's messages. Only the newest
/// snapshot waits: one submitted while another is queued replaces it, and snapshots are written in the
/// order they were taken, so an older one never lands over a newer one. Each snapshot counts only
/// acknowledged messages, so it stays true however late it is written. The writes that must be durable
/// before the run goes on (a new pair before its first message, the last one) wait for this queue to be
/// idle and are written by the caller (`writeNow`). The order argument assumes one caller at a time (the
/// sink's producing thread, then the thread that joined it), as `KafkaSink` uses it.
final class CheckpointWriter {
    private let store: CheckpointStore
    private let queue = DispatchQueue(label: "k2-replay.checkpoint")
    private let condition = NSCondition()
    private var pending: ReplayCheckpoint?
    /// True from a submission until the queue has written everything submitted.
    private var busy = false
    private var failure: Error?

    init(store: CheckpointStore) { self.store = store }

    /// Queues `checkpoint`, replacing a snapshot submitted earlier and not written yet. Throws the error of an
    /// earlier background write (the disk full, the directory gone): the run stops at its next checkpoint.
    func submit(_ checkpoint: ReplayCheckpoint) throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        pending = checkpoint
        if !busy {
            busy = true
            queue.async { self.writePending() }
        }
    }

    /// Writes `checkpoint` on the calling thread once the queue is idle. A snapshot still waiting there is
    /// dropped (this newer one supersedes it, and one fsync is saved); one being written is waited for, so it
    /// cannot land after this one.
    func writeNow(_ checkpoint: ReplayCheckpoint) throws {
        condition.lock()
        pending = nil
        condition.unlock()
        try waitIdle()
        try store.write(checkpoint)
    }

    /// Waits until nothing submitted is left to write; throws the first background failure.
    func waitIdle() throws {
        condition.lock()
        defer { condition.unlock() }
        while busy { condition.wait() }
        if let failure { throw failure }
    }

    private func writePending() {
        while true {
            condition.lock()
            guard let next = pending else {
                busy = false
                condition.broadcast()
                condition.unlock()
                return
            }
            pending = nil
            condition.unlock()
            do {
                try store.write(next)
            } catch {
                condition.lock()
                if failure == nil { failure = error }
                condition.unlock()
            }
        }
    }
}
