/// Storage for a table's files, addressed by location strings as they appear in Iceberg metadata:
/// absolute paths, `file:///...`, and `s3://bucket/key` (also `s3a://`, `s3n://`).
///
/// Objects are immutable once written (Iceberg never rewrites a file in place), so `write` publishes a
/// whole object or nothing: a crash mid-write must never leave a partial file at `location`.
public protocol FileIO: Sendable {
    /// The whole object.
    func read(_ location: String) async throws -> [UInt8]
    /// `length` bytes starting at `offset` (Parquet footers, column chunks).
    func read(_ location: String, offset: Int64, length: Int) async throws -> [UInt8]
    /// The object's size in bytes.
    func length(_ location: String) async throws -> Int64
    /// Publishes `contents` at `location` atomically.
    func write(_ location: String, contents: [UInt8]) async throws
    func exists(_ location: String) async throws -> Bool
    func delete(_ location: String) async throws
}

/// A storage failure, naming the location at fault.
public struct FileIOError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable { case notFound, permissionDenied, noSpace, io, invalidLocation }
    public let kind: Kind
    public let location: String
    public let message: String

    public init(_ kind: Kind, location: String, message: String) {
        self.kind = kind
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(message)" }
}
