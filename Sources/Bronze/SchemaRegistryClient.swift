import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Registers and looks up value schemas over the Confluent Schema Registry REST API
/// (`POST /subjects/{subject}/versions`, `GET /subjects/{subject}/versions/latest`).
/// Basic-auth credentials come only from `SCHEMA_REGISTRY_USER` / `SCHEMA_REGISTRY_PASSWORD`.
public struct SchemaRegistryClient: Sendable {
    public let baseURL: URL
    private let authorization: String?

    public init(baseURL: URL, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.baseURL = baseURL
        if let user = environment["SCHEMA_REGISTRY_USER"], let password = environment["SCHEMA_REGISTRY_PASSWORD"] {
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        } else {
            authorization = nil
        }
    }

    /// Registers `schema` under `subject` (idempotent: an identical schema returns its existing id).
    public func register(subject: String, schema: String) throws -> Int32 {
        let body = try JSONSerialization.data(withJSONObject: ["schema": schema])
        let reply = try send("POST", "subjects/\(subject)/versions", body: body)
        guard let id = reply["id"] as? Int else { throw SchemaRegistryError(message: "register \(subject): reply without id") }
        return Int32(id)
    }

    /// The id of the latest schema version of `subject`.
    public func latestId(subject: String) throws -> Int32 {
        let reply = try send("GET", "subjects/\(subject)/versions/latest", body: nil)
        guard let id = reply["id"] as? Int else { throw SchemaRegistryError(message: "latest \(subject): reply without id") }
        return Int32(id)
    }

    /// One blocking request (the replay asks once per exchange before it starts). AsyncHTTPClient, as the
    /// Iceberg REST catalog and S3 use, rather than URLSession: FoundationNetworking would load libcurl and
    /// about twenty more shared libraries into every run of the program, needed or not. Like those clients it
    /// does not read `http_proxy`/`https_proxy`.
    private func send(_ method: String, _ path: String, body: Data?) throws -> [String: Any] {
        let url = baseURL.appendingPathComponent(path)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/vnd.schemaregistry.v1+json")
        headers.add(name: "Accept", value: "application/vnd.schemaregistry.v1+json, application/json")
        if let authorization { headers.add(name: "Authorization", value: authorization) }
        let status: Int
        let data: Data
        do {
            let request = try HTTPClient.Request(url: url.absoluteString, method: HTTPMethod(rawValue: method), headers: headers,
                                                 body: body.map { .bytes($0) })
            // A client of its own that does not retry connecting: an unreachable registry (a wrong port, a
            // registry that is down) is reported at once, not after the whole deadline of retries.
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.retryConnectionEstablishment = false
            configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
            let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
            defer { try? client.syncShutdown() }
            let response = try client.execute(request: request, deadline: .now() + .seconds(30)).wait()
            status = Int(response.status.code)
            data = response.body.map { Data($0.readableBytesView) } ?? Data()
        } catch {
            throw SchemaRegistryError(message: "\(method) \(url.absoluteString): \(error)")
        }
        let text = String(decoding: data, as: UTF8.self)
        guard (200..<300).contains(status) else {
            throw SchemaRegistryError(message: "\(method) \(url.absoluteString): HTTP \(status) \(text.prefix(300))")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SchemaRegistryError(message: "\(method) \(url.absoluteString): reply is not a JSON object: \(text.prefix(300))")
        }
        return object
    }
}

public struct SchemaRegistryError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { "Schema Registry: \(message)" }
}
