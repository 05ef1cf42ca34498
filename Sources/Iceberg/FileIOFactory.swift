import Foundation

/// Picks storage by location: `s3://`, `s3a://`, `s3n://` go to S3 (or MinIO), everything else
/// (absolute paths, `file:`) to the local filesystem. One value serves a whole run, so a table whose
/// metadata and data live in different places still works.
public enum FileIOFactory {
    /// - Parameters:
    ///   - s3Endpoint: `--s3-endpoint` (e.g. `http://minio:9000`); path-style addressing is used with it.
    ///     Without it, `AWS_ENDPOINT_URL_S3`/`AWS_ENDPOINT_URL`, else AWS itself.
    ///   - s3Region: `--s3-region`; without it, `AWS_REGION`/`AWS_DEFAULT_REGION`, else us-east-1.
    ///   - s3PathStyle: `--s3-path-style`; without it, path-style exactly when an endpoint is set (MinIO).
    ///   - environment: where credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
    ///     `AWS_SESSION_TOKEN`) and the region (`AWS_REGION`) come from. Missing credentials are reported
    ///     when an S3 location is first used, so local-only runs need none.
    public static func make(
        s3Endpoint: String? = nil, s3Region: String? = nil, s3PathStyle: Bool? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> any FileIO {
        var configuration = S3Configuration.fromEnvironment(endpoint: s3Endpoint, environment: environment)
        if let s3Region, !s3Region.isEmpty { configuration.region = s3Region }
        if let s3PathStyle { configuration.pathStyle = s3PathStyle }
        let s3: Result<S3FileIO, FileIOError>
        do {
            s3 = .success(try S3FileIO.fromEnvironment(configuration: configuration, environment: environment))
        } catch let error as FileIOError {
            s3 = .failure(error)
        } catch {
            s3 = .failure(FileIOError(.io, location: s3Endpoint ?? "s3://", message: "\(error)"))
        }
        return RoutingFileIO(local: LocalFileIO(), s3: s3)
    }
}

/// `FileIO` that sends each location to the local filesystem or to S3 by its scheme.
public struct RoutingFileIO: FileIO {
    let local: LocalFileIO
    let s3: Result<S3FileIO, FileIOError>

    /// Whether `location` goes to the local filesystem (writers then stream to a file, not to memory).
    public func isLocal(_ location: String) -> Bool { !S3Location.isS3(location) }

    private func io(for location: String) throws -> any FileIO {
        guard S3Location.isS3(location) else { return local }
        switch s3 {
        case .success(let io): return io
        case .failure(let error): throw FileIOError(error.kind, location: location, message: error.message)
        }
    }

    public func read(_ location: String) async throws -> [UInt8] { try await io(for: location).read(location) }

    public func read(_ location: String, offset: Int64, length: Int) async throws -> [UInt8] {
        try await io(for: location).read(location, offset: offset, length: length)
    }

    public func length(_ location: String) async throws -> Int64 { try await io(for: location).length(location) }

    public func write(_ location: String, contents: [UInt8]) async throws {
        try await io(for: location).write(location, contents: contents)
    }

    public func exists(_ location: String) async throws -> Bool { try await io(for: location).exists(location) }

    public func delete(_ location: String) async throws { try await io(for: location).delete(location) }
}
