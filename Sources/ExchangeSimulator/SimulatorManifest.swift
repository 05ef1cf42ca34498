import Foundation

/// Every frame the simulator sent, per connection, in order: what a capture must have recorded byte-exact.
public final class SimulatorManifest: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public enum Kind: String, Sendable { case frame, reply, status, ping, disconnect, stall }
        public var connection: Int
        public var kind: Kind
        public var stream: String
        public var bytes: [UInt8]
    }

    private let lock = NSLock()
    private var entries: [Entry] = []
    private var framesSent = 0
    private var pongs = 0
    private let keepBytes: Bool
    private let file: FileHandle?

    /// `keepBytes` false keeps only counts (throughput runs); `file` receives one JSON line per entry.
    public init(keepBytes: Bool = true, file: FileHandle? = nil) {
        self.keepBytes = keepBytes
        self.file = file
    }

    func append(_ entry: Entry) {
        lock.lock()
        defer { lock.unlock() }
        if entry.kind == .frame || entry.kind == .reply || entry.kind == .status { framesSent += 1 }
        if keepBytes { entries.append(entry) }
        if let file {
            let line = "{\"connection\":\(entry.connection),\"kind\":\"\(entry.kind.rawValue)\",\"stream\":\"\(entry.stream)\",\"base64\":\"\(Data(entry.bytes).base64EncodedString())\"}\n"
            file.write(Data(line.utf8))
        }
    }

    /// Whether `append` keeps or writes entries; when not, a sender may count frames with `addFramesSent`.
    var keepsEntries: Bool { keepBytes || file != nil }

    /// Counts text frames sent without an entry each (throughput runs, where only counts are kept).
    func addFramesSent(_ count: Int) {
        lock.lock()
        framesSent += count
        lock.unlock()
    }

    func pongReceived() {
        lock.lock()
        pongs += 1
        lock.unlock()
    }

    public var snapshot: [Entry] {
        lock.lock()
        defer { lock.unlock() }
        return entries
    }

    /// Text frames sent (trade frames, heartbeats, replies, status), on all connections.
    public var textFramesSent: Int {
        lock.lock()
        defer { lock.unlock() }
        return framesSent
    }

    public var pongsReceived: Int {
        lock.lock()
        defer { lock.unlock() }
        return pongs
    }
}
