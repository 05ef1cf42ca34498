/// A failure reading or writing a segment log, naming the file and byte offset at fault.
public struct SegmentLogError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case corrupt, io, usage, locked }
    public let kind: Kind
    /// The segment (or other) file at fault, when one is.
    public let file: String?
    /// The byte offset in `file` where the fault starts.
    public let offset: Int64?
    public let message: String

    public init(_ kind: Kind, file: String? = nil, offset: Int64? = nil, _ message: String) {
        self.kind = kind
        self.file = file
        self.offset = offset
        self.message = message
    }

    public var description: String {
        var where_ = ""
        if let file { where_ += file }
        if let offset { where_ += " at byte offset \(offset)" }
        return where_.isEmpty ? message : "\(where_): \(message)"
    }

    static func corrupt(_ file: String, _ offset: Int64, _ message: String) -> SegmentLogError {
        SegmentLogError(.corrupt, file: file, offset: offset, message)
    }
}
