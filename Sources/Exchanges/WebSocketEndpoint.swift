/// Where a WebSocket feed lives: scheme (ws/wss), host, port and the request target (path and query).
public struct WebSocketEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var tls: Bool
    public var host: String
    public var port: Int
    /// The HTTP request target: path plus query, always starting with "/".
    public var target: String

    public init(tls: Bool, host: String, port: Int, target: String) {
        self.tls = tls
        self.host = host
        self.port = port
        self.target = target.hasPrefix("/") ? target : "/" + target
    }

    public var url: String { "\(tls ? "wss" : "ws")://\(host):\(port)\(target)" }
    public var description: String { url }

    /// The same endpoint with the scheme, host and port of `origin` (`ws[s]://HOST:PORT`, as given to `--url`);
    /// the path and query stay what the exchange needs, so tests exercise the exact subscription of production.
    public func replacingOrigin(_ origin: String) throws -> WebSocketEndpoint {
        let parsed = try WebSocketEndpoint.parseOrigin(origin)
        return WebSocketEndpoint(tls: parsed.tls, host: parsed.host, port: parsed.port, target: target)
    }

    /// Parses `ws://HOST:PORT` or `wss://HOST[:PORT]` (IPv6 hosts in brackets). A path other than "/" is refused,
    /// because the program builds the path itself.
    public static func parseOrigin(_ text: String) throws -> (tls: Bool, host: String, port: Int) {
        let tls: Bool
        var rest: Substring
        if text.hasPrefix("wss://") { tls = true; rest = text.dropFirst(6) }
        else if text.hasPrefix("ws://") { tls = false; rest = text.dropFirst(5) }
        else { throw EndpointError(text: text, reason: "the scheme must be ws:// or wss://") }
        if let slash = rest.firstIndex(of: "/") {
            guard rest[slash...] == "/" else {
                throw EndpointError(text: text, reason: "give only scheme, host and port; the path is built from the source")
            }
            rest = rest[..<slash]
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw EndpointError(text: text, reason: "unterminated IPv6 address") }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portText = after.dropFirst() } else if !after.isEmpty {
                throw EndpointError(text: text, reason: "unexpected text after the host")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw EndpointError(text: text, reason: "the host is missing") }
        var port = tls ? 443 : 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw EndpointError(text: text, reason: "the port must be a number from 1 to 65535")
            }
            port = value
        }
        return (tls, String(host), port)
    }
}

public struct EndpointError: Error, CustomStringConvertible, Sendable {
    public let text: String
    public let reason: String
    public var description: String { "invalid WebSocket URL '\(text)': \(reason)" }
}
