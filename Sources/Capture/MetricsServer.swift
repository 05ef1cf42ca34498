import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 server on 127.0.0.1 answering `GET /metrics` with Prometheus text. It runs on the
/// capture's event loop, so `render` reads the counters without locks.
final class MetricsServer {
    private let channel: Channel

    private init(channel: Channel) { self.channel = channel }

    var port: Int { channel.localAddress?.port ?? 0 }

    /// Call from outside the event loop (it waits for the bind). `render` runs on `eventLoop`.
    static func start(on eventLoop: EventLoop, port: Int, render: @escaping () -> String) throws -> MetricsServer {
        let bound = RenderBox(render)
        let channel = try ServerBootstrap(group: eventLoop)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(render: bound))
                }
            }
            .bind(host: "127.0.0.1", port: port).wait()
        return MetricsServer(channel: channel)
    }

    func close() { channel.close(promise: nil) }
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
            let found = uri == "/metrics" || uri.hasPrefix("/metrics?")
            let body = found ? render.value() : "try /metrics\n"
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: found ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain")
            headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            let head = HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers)
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

/// The render closure, only ever called on the server's (single) event loop, which is the capture's loop.
final class RenderBox: @unchecked Sendable {
    let value: () -> String
    init(_ value: @escaping () -> String) { self.value = value }
}
