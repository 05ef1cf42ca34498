import AsyncHTTPClient
import Avro
import Foundation
import NIOCore
import NIOHTTP1

/// A client of the Iceberg REST catalog API (K2 runs tabulario/iceberg-rest at `http://iceberg-rest:8181`).
///
/// The server decides what a commit means: we send requirements and updates, and it checks them against
/// its latest metadata and swaps the pointer, answering 409 when another writer got there first. Reads of
/// GET endpoints are retried on 5xx and connection errors; commits never are (a lost reply may hide a
/// commit that happened), and a 5xx on a commit is reported as an unknown outcome, not as a conflict.
public struct RESTCatalog: Catalog {
    public let name: String
    /// `http(s)://host:port` without a trailing slash, and the path prefix from `/v1/config`.
    public let baseURI: String
    public let prefix: String?
    public let io: any FileIO
    private let auth: RESTAuthenticator
    private let client: HTTPClient
    private let requestTimeout: TimeAmount = .seconds(60)

    /// Connects: reads `/v1/config` (with `warehouse` when given) to learn the path prefix.
    ///
    /// - Parameters:
    ///   - uri: `http://host:8181` or `rest:http://host:8181`.
    ///   - io: storage for the tables' files (the caller picks it from the warehouse location).
    ///   - environment: `K2_ICEBERG_TOKEN` (bearer token) or `K2_ICEBERG_CREDENTIAL` (`client_id:secret`
    ///     for OAuth2 client credentials at `/v1/oauth/tokens`, scope `K2_ICEBERG_SCOPE` or `catalog`).
    public static func connect(
        uri: String, name: String = "rest", warehouse: String? = nil, io: any FileIO,
        environment: [String: String] = ProcessInfo.processInfo.environment, httpClient: HTTPClient = RemoteHTTPClient.shared
    ) async throws -> RESTCatalog {
        var base = uri.hasPrefix("rest:") ? String(uri.dropFirst("rest:".count)) : uri
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        guard let components = URLComponents(string: base), ["http", "https"].contains(components.scheme ?? ""),
            components.host?.isEmpty == false
        else {
            throw IcebergError.invalidArgument("REST catalog URI \(uri) must be http(s)://host[:port]")
        }
        let auth = try RESTAuthenticator(baseURI: base, environment: environment, client: httpClient)
        var catalog = RESTCatalog(name: name, baseURI: base, prefix: nil, io: io, auth: auth, client: httpClient)
        var query: [(String, String)] = []
        if let warehouse { query.append(("warehouse", warehouse)) }
        let config = try await catalog.send("GET", ["config"], query: query, prefixed: false, operation: "read config")
        // Server overrides win over client values, defaults lose to them (the REST spec's rule).
        var settings: [String: String] = [:]
        for (key, value) in config["defaults"]?.objectValue ?? [] { settings[key] = value.stringValue }
        for (key, value) in config["overrides"]?.objectValue ?? [] { settings[key] = value.stringValue }
        if let prefix = settings["prefix"], !prefix.isEmpty {
            catalog = RESTCatalog(name: name, baseURI: base, prefix: prefix, io: io, auth: auth, client: httpClient)
        }
        return catalog
    }

    private init(name: String, baseURI: String, prefix: String?, io: any FileIO, auth: RESTAuthenticator, client: HTTPClient) {
        self.name = name
        self.baseURI = baseURI
        self.prefix = prefix
        self.io = io
        self.auth = auth
        self.client = client
    }

    // MARK: Catalog

    public func listNamespaces() async throws -> [[String]] {
        var namespaces: [[String]] = []
        var pageToken: String?
        repeat {
            let page = try await send(
                "GET", ["namespaces"], query: pageToken.map { [("pageToken", $0)] } ?? [], operation: "list namespaces")
            for item in page["namespaces"]?.arrayValue ?? [] {
                namespaces.append((item.arrayValue ?? []).compactMap(\.stringValue))
            }
            pageToken = page["next-page-token"]?.stringValue
        } while pageToken != nil
        return namespaces
    }

    public func createNamespace(_ namespace: [String], properties: [String: String]) async throws {
        let body = JSONValue.object([
            ("namespace", .array(namespace.map { .string($0) })),
            ("properties", Self.object(properties)),
        ])
        do {
            _ = try await send("POST", ["namespaces"], body: body, operation: "create namespace \(namespace.joined(separator: "."))")
        } catch let error as RESTCatalogError where error.status == 409 {
            throw IcebergError.namespaceAlreadyExists(namespace.joined(separator: "."))
        }
    }

    public func listTables(namespace: [String]) async throws -> [TableIdentifier] {
        var tables: [TableIdentifier] = []
        var pageToken: String?
        repeat {
            let page: JSONValue
            do {
                page = try await send(
                    "GET", ["namespaces", Self.namespacePath(namespace), "tables"],
                    query: pageToken.map { [("pageToken", $0)] } ?? [],
                    operation: "list tables of \(namespace.joined(separator: "."))")
            } catch let error as RESTCatalogError where error.status == 404 {
                throw Self.notFound(error, namespace, table: nil)
            }
            for item in page["identifiers"]?.arrayValue ?? [] {
                guard let tableName = item["name"]?.stringValue else { continue }
                let ns = (item["namespace"]?.arrayValue ?? []).compactMap(\.stringValue)
                tables.append(TableIdentifier(namespace: ns, name: tableName))
            }
            pageToken = page["next-page-token"]?.stringValue
        } while pageToken != nil
        return tables
    }

    public func loadTable(_ identifier: TableIdentifier) async throws -> Table {
        do {
            let result = try await send("GET", tablePath(identifier), operation: "load table \(identifier)")
            return try table(identifier, from: result)
        } catch let error as RESTCatalogError where error.status == 404 {
            throw Self.notFound(error, identifier.namespace, table: identifier)
        }
    }

    public func createTable(
        _ identifier: TableIdentifier, schema: Schema, spec: PartitionSpec, sortOrder: SortOrder,
        properties: [String: String], location: String?
    ) async throws -> Table {
        var members: [(String, JSONValue)] = [("name", .string(identifier.name))]
        if let location { members.append(("location", .string(location))) }
        members += [
            ("schema", schema.toJSON()), ("partition-spec", spec.toJSON()), ("write-order", sortOrder.toJSON()),
            ("stage-create", .bool(false)), ("properties", Self.object(properties)),
        ]
        do {
            let result = try await send(
                "POST", ["namespaces", Self.namespacePath(identifier.namespace), "tables"], body: .object(members),
                operation: "create table \(identifier)")
            return try table(identifier, from: result)
        } catch let error as RESTCatalogError where error.status == 409 {
            throw IcebergError.tableAlreadyExists(identifier.description)
        } catch let error as RESTCatalogError where error.status == 404 {
            throw Self.notFound(error, identifier.namespace, table: nil)
        }
    }

    public func commitTable(_ table: Table, requirements: [TableRequirement], updates: [TableUpdate]) async throws -> Table {
        let body = JSONValue.object([
            ("identifier", .object([
                ("namespace", .array(table.identifier.namespace.map { .string($0) })),
                ("name", .string(table.identifier.name)),
            ])),
            ("requirements", .array(requirements.map(Self.json))),
            ("updates", .array(updates.map { Self.json($0, formatVersion: table.metadata.formatVersion) })),
        ])
        do {
            let result = try await send(
                "POST", tablePath(table.identifier), body: body, retry: false, operation: "commit to \(table.identifier)")
            return try self.table(table.identifier, from: result)
        } catch let error as RESTCatalogError {
            switch error.status {
            case 404:
                throw Self.notFound(error, table.identifier.namespace, table: table.identifier)
            case 409:
                throw IcebergError.commitConflict(table: table.identifier.description, message: error.message)
            case 500, 502, 503, 504, nil:
                // CommitStateUnknown: the server may or may not have committed; the caller must not
                // clean up files the new metadata might reference.
                throw IcebergError.commitStateUnknown(table: table.identifier.description, message: "\(error)")
            default:
                throw error
            }
        }
    }

    /// The catalog error a 404 stands for: the namespace when the server says so, else the table.
    private static func notFound(_ error: RESTCatalogError, _ namespace: [String], table: TableIdentifier?) -> Error {
        if error.type == "NoSuchNamespaceException" || table == nil {
            return IcebergError.noSuchNamespace(namespace.joined(separator: "."))
        }
        return IcebergError.noSuchTable(table!.description)
    }

    // MARK: JSON for requirements and updates (the REST spec's TableRequirement / TableUpdate)

    static func json(_ requirement: TableRequirement) -> JSONValue {
        switch requirement {
        case .assertTableUUID(let uuid):
            return .object([("type", .string("assert-table-uuid")), ("uuid", .string(uuid))])
        case .assertRefSnapshotId(let ref, let snapshotId):
            return .object([
                ("type", .string("assert-ref-snapshot-id")), ("ref", .string(ref)),
                ("snapshot-id", snapshotId.map { .int($0) } ?? .null),
            ])
        case .assertCurrentSchemaId(let id):
            return .object([("type", .string("assert-current-schema-id")), ("current-schema-id", .int(Int64(id)))])
        case .assertDefaultSpecId(let id):
            return .object([("type", .string("assert-default-spec-id")), ("default-spec-id", .int(Int64(id)))])
        }
    }

    static func json(_ update: TableUpdate, formatVersion: Int) -> JSONValue {
        switch update {
        case .addSnapshot(let snapshot):
            return .object([("action", .string("add-snapshot")), ("snapshot", snapshot.toJSON(formatVersion: formatVersion))])
        case .setSnapshotRef(let name, let snapshotId, let type):
            return .object([
                ("action", .string("set-snapshot-ref")), ("ref-name", .string(name)),
                ("snapshot-id", .int(snapshotId)), ("type", .string(type)),
            ])
        case .setProperties(let properties):
            return .object([("action", .string("set-properties")), ("updates", object(properties))])
        case .removeProperties(let keys):
            return .object([("action", .string("remove-properties")), ("removals", .array(keys.sorted().map { .string($0) }))])
        }
    }

    private static func object(_ properties: [String: String]) -> JSONValue {
        .object(properties.keys.sorted().map { ($0, .string(properties[$0]!)) })
    }

    // MARK: HTTP

    /// A namespace as one path segment: levels joined by the unit separator 0x1F (the REST spec's rule).
    static func namespacePath(_ namespace: [String]) -> String { namespace.joined(separator: "\u{1F}") }

    private func tablePath(_ identifier: TableIdentifier) -> [String] {
        ["namespaces", Self.namespacePath(identifier.namespace), "tables", identifier.name]
    }

    private func table(_ identifier: TableIdentifier, from result: JSONValue) throws -> Table {
        guard let location = result["metadata-location"]?.stringValue, let metadata = result["metadata"] else {
            throw IcebergError.invalidMetadata("REST catalog answer for \(identifier) has no metadata-location or metadata")
        }
        return Table(identifier: identifier, metadata: try TableMetadata(json: metadata, location: location),
                     metadataLocation: location, io: io)
    }

    /// Percent-encodes one path segment (everything but RFC 3986 unreserved characters).
    static func encodeSegment(_ segment: String) -> String {
        var out = ""
        for byte in segment.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// Adds SigV4 headers: the canonical URI is the request path encoded once more (the rule for services
    /// other than S3), the payload hashed, `host` and `x-amz-date` signed with the rest of the headers.
    static func sign(_ request: inout HTTPClientRequest, signer: SigV4Signer, path: [String], query: [(String, String)],
                     payload: [UInt8]) {
        let amzDate = SigV4Signer.amzDate(Date())
        let payloadHash = SigV4Signer.hexSHA256(payload)
        if let components = URLComponents(string: request.url), let host = components.host {
            request.headers.replaceOrAdd(name: "Host", value: components.port.map { "\(host):\($0)" } ?? host)
        }
        request.headers.replaceOrAdd(name: "x-amz-date", value: amzDate)
        request.headers.replaceOrAdd(name: "x-amz-content-sha256", value: payloadHash)
        if let token = signer.credentials.sessionToken { request.headers.replaceOrAdd(name: "x-amz-security-token", value: token) }
        let encodedPath = "/" + path.map(encodeSegment).joined(separator: "/")
        let signature = signer.sign(
            method: request.method.rawValue, canonicalURI: SigV4Signer.uriEncode(encodedPath, encodeSlash: false), query: query,
            headers: request.headers.map { ($0.name, $0.value) }, payloadHash: payloadHash, amzDate: amzDate)
        request.headers.replaceOrAdd(name: "Authorization", value: signature.authorization)
    }

    /// Sends a request to `/v1/[prefix/]path` and returns the parsed JSON answer (`.null` when empty).
    /// GETs are retried on 5xx and connection errors; a 401 gets one new OAuth token and one more try.
    private func send(
        _ method: String, _ path: [String], query: [(String, String)] = [], body: JSONValue? = nil,
        prefixed: Bool = true, retry: Bool = true, operation: String
    ) async throws -> JSONValue {
        var segments = ["v1"]
        if prefixed, let prefix { segments.append(prefix) }
        segments += path
        var url = baseURI + "/" + segments.map(Self.encodeSegment).joined(separator: "/")
        if !query.isEmpty {
            url += "?" + query.map { "\(Self.encodeSegment($0.0))=\(Self.encodeSegment($0.1))" }.joined(separator: "&")
        }
        let display = "\(method) /" + segments.joined(separator: "/")
        let payload = body.map { Array($0.serialized().utf8) }
        let attempts = (retry && method == "GET") ? 4 : 1
        var refreshedToken = false
        var attempt = 1
        while true {
            var request = HTTPClientRequest(url: url)
            request.method = HTTPMethod(rawValue: method)
            request.headers.add(name: "Accept", value: "application/json")
            request.headers.add(name: "X-Client-Version", value: "k2-backfill")
            if let token = try await auth.token() {
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
            }
            if let payload {
                request.headers.add(name: "Content-Type", value: "application/json")
                request.body = .bytes(ByteBuffer(bytes: payload))
            }
            if let signer = auth.signer {
                Self.sign(&request, signer: signer, path: segments, query: query, payload: payload ?? [])
            }
            let status: Int
            let bytes: [UInt8]
            do {
                let response = try await client.execute(request, timeout: requestTimeout)
                status = Int(response.status.code)
                bytes = Array(try await response.body.collect(upTo: 256 * 1024 * 1024).readableBytesView)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if attempt < attempts, !RemoteHTTPClient.isTimeout(error) {
                    try await Task.sleep(for: .milliseconds(200 << attempt))
                    attempt += 1
                    continue
                }
                throw RESTCatalogError(
                    status: nil, type: nil, message: "\(operation): no answer from \(baseURI) (\(error))", request: display)
            }
            if (200..<300).contains(status) {
                guard !bytes.isEmpty else { return .null }
                do {
                    return try JSONValue.parse(bytes)
                } catch {
                    throw RESTCatalogError(status: status, type: nil, message: "\(operation): answer is not JSON: \(error)", request: display)
                }
            }
            if status == 401, !refreshedToken, await auth.canRefresh {
                refreshedToken = true
                await auth.invalidate()
                continue
            }
            if [500, 502, 503, 504].contains(status), attempt < attempts {
                try await Task.sleep(for: .milliseconds(200 << attempt))
                attempt += 1
                continue
            }
            let answer = try? JSONValue.parse(bytes)
            let type = answer?["error"]?["type"]?.stringValue
            let message = answer?["error"]?["message"]?.stringValue ?? String(decoding: bytes.prefix(500), as: UTF8.self)
            throw RESTCatalogError(status: status, type: type, message: "\(operation): \(message)", request: display)
        }
    }
}

/// A failure answered by (or on the way to) the REST catalog, with the request line; never the token.
public struct RESTCatalogError: Error, CustomStringConvertible, Sendable {
    /// The HTTP status, nil when no answer came.
    public let status: Int?
    /// The REST ErrorModel's `type` (`CommitFailedException`, `NotAuthorizedException`, ...).
    public let type: String?
    public let message: String
    public let request: String

    public var description: String {
        let head = status.map { "HTTP \($0)" } ?? "no answer"
        return "REST catalog \(request): \(head)\(type.map { " \($0)" } ?? ""): \(message)"
    }
}
