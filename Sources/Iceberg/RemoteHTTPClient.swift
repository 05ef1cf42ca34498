import AsyncHTTPClient
import NIOCore

/// The HTTP client of the REST catalog and S3 clients: process-wide, like AsyncHTTPClient's `.shared`, but
/// with deadlines a person can wait for. A connection must be made within 10 s and is tried once per
/// request (the callers retry with backoff, a bounded number of times); an answer that stops flowing for
/// 30 s fails the request. (`.shared` retries connecting until the request's whole deadline: an unreachable
/// S3 endpoint kept a run waiting for many minutes.)
public enum RemoteHTTPClient {
    public static let connectTimeout: TimeAmount = .seconds(10)
    public static let readTimeout: TimeAmount = .seconds(30)

    public static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout = .init(connect: connectTimeout, read: readTimeout)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// Whether a request failed because the server did not answer in time (not connectable within
    /// `connectTimeout`, or silent for `readTimeout`). Such a failure is not retried: a server that is
    /// silent once is silent again, and retrying only multiplies the wait.
    public static func isTimeout(_ error: Error) -> Bool {
        guard let error = error as? HTTPClientError else { return false }
        return [HTTPClientError.readTimeout, .connectTimeout, .deadlineExceeded, .writeTimeout].contains(error)
    }
}
