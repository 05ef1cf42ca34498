import Foundation

/// Where an S3-compatible store is and how to talk to it. Credentials are not part of it: they come from
/// the environment only (`S3Credentials.fromEnvironment`).
public struct S3Configuration: Sendable {
    /// `scheme://host[:port]` of the store (MinIO: `http://minio:9000`); nil means AWS's regional endpoint.
    public var endpoint: String?
    public var region: String
    /// Path-style addressing (`endpoint/bucket/key`), which MinIO and moto need; otherwise virtual-hosted
    /// (`bucket.endpoint/key`).
    public var pathStyle: Bool
    /// Objects larger than this are written by multipart upload, so a crash never publishes part of one.
    public var multipartThreshold: Int
    /// Size of each multipart part but the last (S3's minimum is 5 MiB).
    public var partSize: Int
    /// Parts uploaded at once.
    public var partConcurrency: Int
    /// Tries per request, the first included, on 5xx, throttling and connection errors.
    public var maxAttempts: Int
    /// Wait before the first retry; doubled for each further one (with jitter), up to `maxBackoff`.
    public var initialBackoff: Duration
    public var maxBackoff: Duration
    /// Time one request may take, body included.
    public var requestTimeout: Duration

    public static let minimumPartSize = 5 * 1024 * 1024

    public init(
        endpoint: String? = nil, region: String = "us-east-1", pathStyle: Bool? = nil,
        multipartThreshold: Int = 16 * 1024 * 1024, partSize: Int = 16 * 1024 * 1024, partConcurrency: Int = 4,
        maxAttempts: Int = 6, initialBackoff: Duration = .milliseconds(200), maxBackoff: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(300)
    ) {
        self.endpoint = endpoint
        self.region = region
        self.pathStyle = pathStyle ?? (endpoint != nil)
        self.multipartThreshold = multipartThreshold
        self.partSize = max(partSize, Self.minimumPartSize)
        self.partConcurrency = max(1, partConcurrency)
        self.maxAttempts = max(1, maxAttempts)
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.requestTimeout = requestTimeout
    }

    /// Region from `AWS_REGION` or `AWS_DEFAULT_REGION` (else us-east-1); endpoint as given, else from
    /// `AWS_ENDPOINT_URL_S3` or `AWS_ENDPOINT_URL` (the AWS SDKs' variables).
    public static func fromEnvironment(
        endpoint: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> S3Configuration {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1"
        let endpoint = endpoint ?? value("AWS_ENDPOINT_URL_S3") ?? value("AWS_ENDPOINT_URL")
        return S3Configuration(endpoint: endpoint, region: region)
    }
}
