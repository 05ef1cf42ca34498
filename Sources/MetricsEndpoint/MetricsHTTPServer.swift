import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 server for Prometheus: `GET /metrics` answers the text `render` gives (exposition
/// format 0.0.4), `GET /healthz` answers `ok`, anything else 404. Bound to any address (`0.0.0.0` to be
/// scraped from other hosts). `render` runs on `eventLoop`: a caller whose counters live on that loop reads
/// them without locks.
public final class MetricsHTTPServer {
    private let channel: Channel

    private init(channel: Channel) { self.channel = channel }

    /// The bound port (the one asked for, or the one the system chose for 0).
    public var port: Int { channel.localAddress?.port ?? 0 }

    /// Call from outside the event loop (it waits for the bind); throws when the address cannot be bound.
    public static func start(on eventLoop: EventLoop, host: String, port: Int, render: @escaping () -> String) throws -> MetricsHTTPServer {
        let bound = RenderBox(render)
        let channel = try ServerBootstrap(group: eventLoop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(render: bound))
                }
            }
            .bind(host: host, port: port).wait()
        return MetricsHTTPServer(channel: channel)
    }

    public func close() { channel.close(promise: nil) }

    /// `HOST:PORT` (`[v6]:PORT` for IPv6, `:PORT` for every interface) → host and port; nil when malformed.
    public static func parseAddress(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            return nil
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.isEmpty { host = "0.0.0.0" }
        return (host, port)
    }
}

private final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let render: RenderBox
    private var uri = ""
    private var keepAlive = false

    init(render: RenderBox) { self.render = render }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            uri = head.uri
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            let path = String(uri.prefix { $0 != "?" })
            let status: HTTPResponseStatus
            let body: String
            let type: String
            switch path {
            case "/metrics": (status, body, type) = (.ok, render.value(), "text/plain; version=0.0.4; charset=utf-8")
            case "/healthz": (status, body, type) = (.ok, "ok\n", "text/plain")
            default: (status, body, type) = (.notFound, "try /metrics or /healthz\n", "text/plain")
            }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            let head = HTTPResponseHead(version: .http1_1, status: status, headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            let keep = keepAlive
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                if !keep { channel.close(promise: nil) }
            }
        }
    }
}

/// The render closure, only ever called on the server's (single) event loop.
private final class RenderBox: @unchecked Sendable {
    let value: () -> String
    init(_ value: @escaping () -> String) { self.value = value }
}
