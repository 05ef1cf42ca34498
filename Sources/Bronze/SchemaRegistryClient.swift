import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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

    private func send(_ method: String, _ path: String, body: Data?) throws -> [String: Any] {
        let url = baseURL.appendingPathComponent(path)
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        request.setValue("application/vnd.schemaregistry.v1+json", forHTTPHeaderField: "Content-Type")
        request.setValue("application/vnd.schemaregistry.v1+json, application/json", forHTTPHeaderField: "Accept")
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        request.httpBody = body
        let box = ReplyBox()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.data = data
            box.status = (response as? HTTPURLResponse)?.statusCode
            box.error = error
            done.signal()
        }.resume()
        done.wait()
        if let error = box.error { throw SchemaRegistryError(message: "\(method) \(url.absoluteString): \(error.localizedDescription)") }
        let text = box.data.map { String(decoding: $0, as: UTF8.self) } ?? ""
        guard let status = box.status, (200..<300).contains(status) else {
            throw SchemaRegistryError(message: "\(method) \(url.absoluteString): HTTP \(box.status ?? 0) \(text.prefix(300))")
        }
        guard let data = box.data, let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw SchemaRegistryError(message: "\(method) \(url.absoluteString): reply is not a JSON object: \(text.prefix(300))")
        }
        return object
    }

    private final class ReplyBox: @unchecked Sendable {
        var data: Data?
        var status: Int?
        var error: Error?
    }
}

public struct SchemaRegistryError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { "Schema Registry: \(message)" }
}
