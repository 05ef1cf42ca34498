import AsyncHTTPClient
import Foundation
import K2Core
import NIOCore
import NIOHTTP1

/// `FileIO` for `s3://bucket/key` (and `s3a://`, `s3n://`) on S3 and S3-compatible stores (MinIO, moto),
/// signing every request with SigV4.
///
/// Small objects are written with one PUT; objects above `multipartThreshold` by multipart upload, aborted
/// on failure: S3 makes an object visible only when its PUT or CompleteMultipartUpload succeeds, so a
/// crash or an error never publishes part of one. Requests that fail with a 5xx, throttling or a
/// connection error are retried with exponential backoff and jitter.
public struct S3FileIO: FileIO {
    public let configuration: S3Configuration
    private let signer: SigV4Signer
    private let client: HTTPClient
    private let endpointScheme: String
    private let endpointHost: String
    private let endpointPort: Int?

    /// - Parameter httpClient: defaults to AsyncHTTPClient's process-wide shared client, which needs no
    ///   shutdown.
    public init(configuration: S3Configuration, credentials: S3Credentials, httpClient: HTTPClient = RemoteHTTPClient.shared) throws {
        self.configuration = configuration
        self.signer = SigV4Signer(credentials: credentials, region: configuration.region, service: "s3")
        self.client = httpClient
        let endpoint = configuration.endpoint ?? "https://s3.\(configuration.region).amazonaws.com"
        // User info would be printed in errors; requests are signed with the environment's keys only.
        guard URLUserInfo.of(endpoint) == nil else {
            throw FileIOError(.invalidLocation, location: URLUserInfo.redacted(endpoint),
                              message: "credentials in the S3 endpoint are refused; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        }
        guard let components = URLComponents(string: endpoint), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw FileIOError(.invalidLocation, location: endpoint, message: "S3 endpoint must be http(s)://host[:port]")
        }
        self.endpointScheme = scheme
        self.endpointHost = host
        self.endpointPort = components.port
    }

    /// Credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`; region and endpoint
    /// as `S3Configuration.fromEnvironment` finds them unless given.
    public static func fromEnvironment(
        configuration: S3Configuration = .fromEnvironment(),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> S3FileIO {
        guard let credentials = S3Credentials.fromEnvironment(environment) else {
            throw FileIOError(
                .permissionDenied, location: configuration.endpoint.map(URLUserInfo.redacted) ?? "s3://",
                message: "S3 needs credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment")
        }
        return try S3FileIO(configuration: configuration, credentials: credentials)
    }

    // MARK: FileIO

    public func read(_ location: String) async throws -> [UInt8] {
        let object = try S3Location(parsing: location)
        let response = try await send("GET", object, location: location)
        try check(response, location: location)
        return response.body
    }

    public func read(_ location: String, offset: Int64, length: Int) async throws -> [UInt8] {
        let object = try S3Location(parsing: location)
        guard offset >= 0, length >= 0 else {
            throw FileIOError(.io, location: location, message: "invalid range: offset \(offset), length \(length)")
        }
        if length == 0 { return [] }
        let last = offset + Int64(length) - 1
        let response = try await send("GET", object, location: location, headers: [("range", "bytes=\(offset)-\(last)")])
        if response.status == 416 {
            throw FileIOError(.io, location: location, message: "range \(offset)..<\(last + 1) is past the end of the object")
        }
        try check(response, location: location)
        var bytes = response.body
        if response.status == 200 {
            // The store ignored the Range header and sent the whole object.
            guard Int64(bytes.count) >= last + 1 else { throw shortRead(location, offset, length, max(0, bytes.count - Int(offset))) }
            bytes = Array(bytes[Int(offset)...Int(last)])
        }
        guard bytes.count == length else { throw shortRead(location, offset, length, bytes.count) }
        return bytes
    }

    public func length(_ location: String) async throws -> Int64 {
        let object = try S3Location(parsing: location)
        let response = try await send("HEAD", object, location: location)
        try check(response, location: location)
        guard let text = response.headers.first(name: "content-length"), let length = Int64(text) else {
            throw FileIOError(.io, location: location, message: "HEAD response has no Content-Length")
        }
        return length
    }

    public func exists(_ location: String) async throws -> Bool {
        let object = try S3Location(parsing: location)
        let response = try await send("HEAD", object, location: location)
        if response.status == 404 { return false }
        try check(response, location: location)
        return true
    }

    /// Deletes the object; deleting an absent object succeeds (S3 does not tell the two apart).
    public func delete(_ location: String) async throws {
        let object = try S3Location(parsing: location)
        let response = try await send("DELETE", object, location: location)
        if response.status == 404 { return }
        try check(response, location: location)
    }

    public func write(_ location: String, contents: [UInt8]) async throws {
        let object = try S3Location(parsing: location)
        if contents.count > configuration.multipartThreshold {
            try await multipartWrite(object, location: location, contents: contents)
        } else {
            let response = try await send("PUT", object, location: location, body: contents[...])
            try check(response, location: location)
        }
    }

    // MARK: Multipart upload

    private func multipartWrite(_ object: S3Location, location: String, contents: [UInt8]) async throws {
        let created = try await send("POST", object, location: location, query: [("uploads", "")])
        try check(created, location: location)
        guard let uploadId = S3XML.firstElement("UploadId", in: String(decoding: created.body, as: UTF8.self)),
            !uploadId.isEmpty
        else {
            throw FileIOError(.io, location: location, message: "CreateMultipartUpload reply has no UploadId")
        }
        do {
            let etags = try await uploadParts(object, location: location, uploadId: uploadId, contents: contents)
            let document = S3XML.completeMultipartUpload(etags: etags)
            // From here the object may become visible: the completion runs to its end even if this task is
            // cancelled meanwhile, so what we report is what the store did (published whole, or not at all),
            // not a cancellation that left the object behind.
            let completed = try await Task.detached { [self] in
                try await self.send(
                    "POST", object, location: location, query: [("uploadId", uploadId)],
                    headers: [("content-type", "application/xml")], body: Array(document.utf8)[...],
                    errorDocumentMeansFailure: true)
            }.value
            try check(completed, location: location)
        } catch {
            // Abort even when this task was cancelled (a cancelled task's requests fail at once), so the
            // store does not keep the parts; the object itself was never published either way.
            let abort = Task.detached { [self] in
                _ = try? await self.send("DELETE", object, location: location, query: [("uploadId", uploadId)])
            }
            await abort.value
            throw error
        }
    }

    /// Uploads the parts, up to `partConcurrency` at once; returns their ETags in part order.
    private func uploadParts(_ object: S3Location, location: String, uploadId: String, contents: [UInt8])
        async throws -> [String]
    {
        let partSize = configuration.partSize
        let partCount = (contents.count + partSize - 1) / partSize
        var etags = [String](repeating: "", count: partCount)
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var next = 0
            func startPart(_ index: Int) {
                let start = index * partSize
                let part = contents[start..<min(start + partSize, contents.count)]
                group.addTask {
                    let response = try await self.send(
                        "PUT", object, location: location,
                        query: [("partNumber", String(index + 1)), ("uploadId", uploadId)], body: part)
                    try self.check(response, location: location)
                    guard let etag = response.headers.first(name: "etag") else {
                        throw FileIOError(.io, location: location, message: "UploadPart \(index + 1) reply has no ETag")
                    }
                    return (index, etag)
                }
            }
            while next < min(configuration.partConcurrency, partCount) {
                startPart(next)
                next += 1
            }
            while let (index, etag) = try await group.next() {
                etags[index] = etag
                if next < partCount {
                    startPart(next)
                    next += 1
                }
            }
        }
        return etags
    }

    // MARK: Requests

    struct Response {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
    }

    /// Sends one signed request, retrying on 5xx, throttling and connection errors. Returns the final
    /// response whatever its status (the caller decides what a 404 means); throws only when no response
    /// came back after the last attempt.
    private func send(
        _ method: String, _ object: S3Location, location: String, query: [(String, String)] = [],
        headers extraHeaders: [(String, String)] = [], body: ArraySlice<UInt8>? = nil,
        errorDocumentMeansFailure: Bool = false
    ) async throws -> Response {
        let (url, canonicalURI, hostHeader) = address(object, query: query)
        let payloadHash = body.map { SigV4Signer.hexSHA256($0) } ?? SigV4Signer.emptyPayloadHash
        var attempt = 1
        while true {
            let amzDate = SigV4Signer.amzDate(Date())
            var signed: [(String, String)] = [
                ("host", hostHeader), ("x-amz-date", amzDate), ("x-amz-content-sha256", payloadHash),
            ]
            if let token = signer.credentials.sessionToken { signed.append(("x-amz-security-token", token)) }
            signed += extraHeaders
            let signature = signer.sign(
                method: method, canonicalURI: canonicalURI, query: query, headers: signed,
                payloadHash: payloadHash, amzDate: amzDate)

            var request = HTTPClientRequest(url: url)
            request.method = HTTPMethod(rawValue: method)
            for (name, value) in signed { request.headers.replaceOrAdd(name: name, value: value) }
            request.headers.replaceOrAdd(name: "authorization", value: signature.authorization)
            if let body {
                request.headers.replaceOrAdd(name: "content-length", value: String(body.count))
                request.body = .bytes(ByteBuffer(bytes: body))
            }

            let outcome: Result<Response, Error>
            do {
                let response = try await client.execute(request, timeout: timeAmount(configuration.requestTimeout))
                let limit = method == "HEAD" ? 0 : Int(clamping: Int64(response.headers.first(name: "content-length") ?? "") ?? Int64(Int32.max)) + 1
                let buffer = try await response.body.collect(upTo: max(limit, 1))
                outcome = .success(Response(status: Int(response.status.code), headers: response.headers, body: Array(buffer.readableBytesView)))
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                outcome = .failure(error)
            }

            switch outcome {
            case .success(let response):
                guard attempt < configuration.maxAttempts, isRetryable(response, errorDocumentMeansFailure) else {
                    if errorDocumentMeansFailure, (200..<300).contains(response.status),
                        S3XML.isErrorDocument(String(decoding: response.body, as: UTF8.self))
                    {
                        // Report the embedded error through `check` by giving it a failing status.
                        return Response(status: 500, headers: response.headers, body: response.body)
                    }
                    return response
                }
            case .failure(let error):
                guard attempt < configuration.maxAttempts, !RemoteHTTPClient.isTimeout(error) else {
                    throw FileIOError(
                        .io, location: location,
                        message: "\(method) failed after \(attempt) attempt(s): \(error)")
                }
            }
            try await Task.sleep(for: backoff(attempt: attempt))
            attempt += 1
        }
    }

    /// Throws the error a non-2xx response stands for, naming the location and S3's error code.
    private func check(_ response: Response, location: String) throws {
        guard !(200..<300).contains(response.status) else { return }
        let document = String(decoding: response.body, as: UTF8.self)
        let code = S3XML.firstElement("Code", in: document)
        let message = S3XML.firstElement("Message", in: document)
        let detail = [code, message].compactMap { $0 }.joined(separator: ": ")
        let text = "HTTP \(response.status)" + (detail.isEmpty ? "" : " \(detail)")
        switch (response.status, code) {
        case (404, _), (_, "NoSuchKey"), (_, "NoSuchBucket"):
            throw FileIOError(.notFound, location: location, message: "no such object (\(text))")
        case (403, _), (_, "AccessDenied"), (_, "SignatureDoesNotMatch"), (_, "InvalidAccessKeyId"):
            throw FileIOError(.permissionDenied, location: location, message: "access denied (\(text))")
        default:
            throw FileIOError(.io, location: location, message: text)
        }
    }

    private func isRetryable(_ response: Response, _ errorDocumentMeansFailure: Bool) -> Bool {
        if [500, 502, 503, 504, 429].contains(response.status) { return true }
        let document: String
        if (200..<300).contains(response.status) {
            guard errorDocumentMeansFailure else { return false }
            document = String(decoding: response.body, as: UTF8.self)
            guard S3XML.isErrorDocument(document) else { return false }
        } else {
            document = String(decoding: response.body, as: UTF8.self)
        }
        let retryableCodes: Set<String> = [
            "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError", "ServiceUnavailable",
            "RequestLimitExceeded", "TooManyRequests",
        ]
        return S3XML.firstElement("Code", in: document).map(retryableCodes.contains) ?? false
    }

    private func backoff(attempt: Int) -> Duration {
        let exponential = configuration.initialBackoff * (1 << min(attempt - 1, 16))
        let capped = min(exponential, configuration.maxBackoff)
        return capped * Double.random(in: 0.5...1.0)
    }

    /// The request URL, the canonical URI to sign and the Host header for `object`.
    private func address(_ object: S3Location, query: [(String, String)]) -> (String, String, String) {
        let encodedKey = SigV4Signer.uriEncode(object.key, encodeSlash: false)
        let encodedBucket = SigV4Signer.uriEncode(object.bucket, encodeSlash: true)
        let port = endpointPort.map { ":\($0)" } ?? ""
        let host: String
        let path: String
        if configuration.pathStyle {
            host = endpointHost + port
            path = "/\(encodedBucket)/\(encodedKey)"
        } else {
            host = "\(object.bucket).\(endpointHost)\(port)"
            path = "/\(encodedKey)"
        }
        var url = "\(endpointScheme)://\(host)\(path)"
        if !query.isEmpty {
            // A parameter without a value goes on the wire bare (`?uploads`) and is signed as `uploads=`.
            url += "?" + query.map { name, value in
                let encodedName = SigV4Signer.uriEncode(name, encodeSlash: true)
                return value.isEmpty ? encodedName : "\(encodedName)=\(SigV4Signer.uriEncode(value, encodeSlash: true))"
            }.joined(separator: "&")
        }
        return (url, path, host)
    }

    private func shortRead(_ location: String, _ offset: Int64, _ length: Int, _ got: Int) -> FileIOError {
        FileIOError(.io, location: location, message: "short read: asked \(length) bytes at offset \(offset), got \(got)")
    }

    private func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
