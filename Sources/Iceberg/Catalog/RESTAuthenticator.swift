import AsyncHTTPClient
import Avro
import Foundation
import NIOCore
import NIOHTTP1

/// The bearer token for REST catalog requests, from the environment only: a fixed token
/// (`K2_ICEBERG_TOKEN`), or one obtained with OAuth2 client credentials (`K2_ICEBERG_CREDENTIAL` =
/// `client_id:secret`, POSTed to `<catalog>/v1/oauth/tokens` or `K2_ICEBERG_OAUTH2_SERVER_URI`) and fetched
/// again when it expires or the server answers 401; or AWS SigV4 signatures of every request
/// (`K2_ICEBERG_SIGV4=1`, as pyiceberg's `rest.sigv4-enabled`: credentials from `AWS_ACCESS_KEY_ID` /
/// `AWS_SECRET_ACCESS_KEY`, service `K2_ICEBERG_SIGNING_NAME` or `execute-api`, region
/// `K2_ICEBERG_SIGNING_REGION`, `AWS_REGION` or us-east-1). Tokens and secrets never appear in errors or logs.
actor RESTAuthenticator {
    private enum Source {
        case none
        case fixed(String)
        case clientCredentials(clientId: String, secret: String, tokenURI: String, scope: String)
    }

    private let source: Source
    private let client: HTTPClient
    private var current: (token: String, expires: Date?)?
    /// Set when requests are signed with SigV4 instead of carrying a bearer token.
    nonisolated let signer: SigV4Signer?

    init(baseURI: String, environment: [String: String], client: HTTPClient) throws {
        self.client = client
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if ["1", "true", "yes"].contains(value("K2_ICEBERG_SIGV4")?.lowercased() ?? "") {
            guard let credentials = S3Credentials.fromEnvironment(environment) else {
                throw IcebergError.invalidArgument("K2_ICEBERG_SIGV4 is set but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not")
            }
            signer = SigV4Signer(
                credentials: credentials,
                region: value("K2_ICEBERG_SIGNING_REGION") ?? value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") ?? "us-east-1",
                service: value("K2_ICEBERG_SIGNING_NAME") ?? "execute-api")
            source = .none
            return
        }
        signer = nil
        if let credential = value("K2_ICEBERG_CREDENTIAL") {
            guard let colon = credential.firstIndex(of: ":") else {
                throw IcebergError.invalidArgument("K2_ICEBERG_CREDENTIAL must be client_id:secret")
            }
            source = .clientCredentials(
                clientId: String(credential[..<colon]), secret: String(credential[credential.index(after: colon)...]),
                tokenURI: value("K2_ICEBERG_OAUTH2_SERVER_URI") ?? baseURI + "/v1/oauth/tokens",
                scope: value("K2_ICEBERG_SCOPE") ?? "catalog")
        } else if let token = value("K2_ICEBERG_TOKEN") {
            source = .fixed(token)
        } else {
            source = .none
        }
    }

    /// Whether a 401 is worth a new token (only client credentials can get one).
    var canRefresh: Bool {
        if case .clientCredentials = source { return true }
        return false
    }

    func invalidate() { current = nil }

    /// The token to send, nil when none is configured.
    func token() async throws -> String? {
        switch source {
        case .none:
            return nil
        case .fixed(let token):
            return token
        case .clientCredentials(let clientId, let secret, let tokenURI, let scope):
            // Renew a minute early so a request does not start with a token about to lapse.
            if let current, current.expires.map({ $0.timeIntervalSinceNow > 60 }) ?? true {
                return current.token
            }
            let fetched = try await fetchToken(clientId: clientId, secret: secret, tokenURI: tokenURI, scope: scope)
            current = fetched
            return fetched.token
        }
    }

    private func fetchToken(clientId: String, secret: String, tokenURI: String, scope: String)
        async throws -> (token: String, expires: Date?)
    {
        func form(_ text: String) -> String {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
        }
        let body = "grant_type=client_credentials&client_id=\(form(clientId))&client_secret=\(form(secret))&scope=\(form(scope))"
        var request = HTTPClientRequest(url: tokenURI)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            status = Int(response.status.code)
            bytes = Array(try await response.body.collect(upTo: 1024 * 1024).readableBytesView)
        } catch {
            throw RESTCatalogError(status: nil, type: nil, message: "OAuth2 token request failed: \(error)", request: "POST \(tokenURI)")
        }
        let answer = try? JSONValue.parse(bytes)
        guard (200..<300).contains(status), let token = answer?["access_token"]?.stringValue, !token.isEmpty else {
            // The OAuth2 error answer (`error`, `error_description`) names the problem without secrets.
            let reason = [answer?["error"]?.stringValue, answer?["error_description"]?.stringValue]
                .compactMap { $0 }.joined(separator: ": ")
            throw RESTCatalogError(
                status: status, type: answer?["error"]?.stringValue,
                message: "OAuth2 client-credentials token for client \(clientId) refused\(reason.isEmpty ? "" : ": \(reason)")",
                request: "POST \(tokenURI)")
        }
        let expires = answer?["expires_in"]?.int64Value.map { Date().addingTimeInterval(TimeInterval($0)) }
        return (token, expires)
    }
}
