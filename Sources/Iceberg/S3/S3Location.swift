/// A parsed `s3://bucket/key` location (also `s3a://` and `s3n://`, the Hadoop spellings Spark writes).
public struct S3Location: Sendable, Hashable, CustomStringConvertible {
    public let bucket: String
    public let key: String

    public static let schemes = ["s3://", "s3a://", "s3n://"]

    public init(bucket: String, key: String) {
        self.bucket = bucket
        self.key = key
    }

    /// Parses `location`; throws `FileIOError.invalidLocation` naming it when it is not an S3 object address.
    public init(parsing location: String) throws {
        guard let scheme = Self.schemes.first(where: { location.hasPrefix($0) }) else {
            throw FileIOError(.invalidLocation, location: location, message: "not an s3://, s3a:// or s3n:// location")
        }
        let rest = location.dropFirst(scheme.count)
        guard let slash = rest.firstIndex(of: "/") else {
            throw FileIOError(.invalidLocation, location: location, message: "no object key after the bucket name")
        }
        let bucket = String(rest[..<slash])
        let key = String(rest[rest.index(after: slash)...])
        guard !bucket.isEmpty, !key.isEmpty else {
            throw FileIOError(.invalidLocation, location: location, message: "empty bucket name or object key")
        }
        self.init(bucket: bucket, key: key)
    }

    public static func isS3(_ location: String) -> Bool {
        schemes.contains { location.hasPrefix($0) }
    }

    public var description: String { "s3://\(bucket)/\(key)" }
}
