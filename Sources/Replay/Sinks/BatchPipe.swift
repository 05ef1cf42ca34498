import Foundation

/// Hands encoded batches from the reading thread to the producing thread and back (a fixed pool: the reader
/// waits when the producer is behind). One lock round per batch, not per message.
final class BatchPipe {
    private let condition = NSCondition()
    private var full: [EncodedBatch] = []
    private var free: [EncodedBatch]
    private var closed = false
    /// Set by the producing thread when it stops early; the reader throws it at its next hand-over.
    private var failure: Error?

    init(batches: Int, capacity: Int, byteCapacity: Int) {
        free = (0..<batches).map { _ in EncodedBatch(capacity: capacity, byteCapacity: byteCapacity) }
    }

    /// Reader: an empty batch to fill.
    func takeFree() throws -> EncodedBatch {
        condition.lock()
        defer { condition.unlock() }
        while free.isEmpty && failure == nil { condition.wait() }
        if let failure { throw failure }
        return free.removeLast()
    }

    /// Reader: a filled batch for the producer.
    func send(_ batch: EncodedBatch) throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
        full.append(batch)
        condition.broadcast()
    }

    /// Reader: no more batches.
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    /// Producer: the next filled batch, or nil once the reader closed the pipe and everything was taken.
    func receive() -> EncodedBatch? {
        condition.lock()
        defer { condition.unlock() }
        while full.isEmpty && !closed { condition.wait() }
        return full.isEmpty ? nil : full.removeFirst()
    }

    /// Producer: a batch done with.
    func recycle(_ batch: EncodedBatch) {
        batch.removeAll()
        condition.lock()
        free.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    /// Producer: stops the reader with `error`.
    func fail(_ error: Error) {
        condition.lock()
        if failure == nil { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    var failed: Error? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }
}
