import Exchanges
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// What a `WebSocketConnection` reports, always on its event loop.
protocol WebSocketConnectionDelegate: AnyObject {
    /// The WebSocket handshake completed; frames may follow.
    func connectionOpened(_ connection: WebSocketConnection)
    /// A complete text or binary message (fragments already joined), exactly as received.
    func connection(_ connection: WebSocketConnection, received message: ByteBuffer)
    /// The server pinged (already answered with a pong).
    func connectionPinged(_ connection: WebSocketConnection)
    /// The connection is gone. `wasOpen` is false when the TCP/TLS/HTTP handshake never completed.
    func connectionClosed(_ connection: WebSocketConnection, reason: String, wasOpen: Bool)
}

/// One client WebSocket connection (RFC 6455) over swift-nio, optionally TLS (NIOSSL).
/// Confined to its event loop: every method must be called there.
final class WebSocketConnection {
    enum State { case connecting, open, closed }

    let id: Int
    let endpoint: WebSocketEndpoint
    let openedAtNanos: Int64
    private(set) var state: State = .connecting
    private(set) var channel: Channel?
    /// Receive time of the last message, or of the opening while none came yet (the stall watchdog's clock).
    var lastActivityNanos: Int64
    /// Which streams (by the recorder's stream index) this connection has delivered data frames on: what a
    /// make-before-break handover must see overlap on before closing it.
    private(set) var dataStreams: [Bool] = []
    /// Why we are closing it ourselves, reported instead of what the socket says.
    private var closeReason: String?
    weak var delegate: WebSocketConnectionDelegate?
    private let eventLoop: EventLoop

    func deliveredData(onStream index: Int) {
        if index >= dataStreams.count { dataStreams.append(contentsOf: repeatElement(false, count: index + 1 - dataStreams.count)) }
        dataStreams[index] = true
    }

    init(id: Int, endpoint: WebSocketEndpoint, eventLoop: EventLoop, delegate: WebSocketConnectionDelegate) {
        self.id = id
        self.endpoint = endpoint
        self.eventLoop = eventLoop
        self.delegate = delegate
        self.openedAtNanos = WallClock.nanoseconds()
        self.lastActivityNanos = openedAtNanos
    }

    /// Starts connecting; the outcome arrives through the delegate.
    func start(tls: NIOSSLContext?, maxMessageBytes: Int) {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let endpoint = self.endpoint
        let hostIsAddress = (try? SocketAddress(ipAddress: endpoint.host, port: 0)) != nil
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(.seconds(10))
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelOption(ChannelOptions.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 64 * 1024, maximum: 1 << 20))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        let handler = try NIOSSLClientHandler(context: tls, serverHostname: hostIsAddress ? nil : endpoint.host)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    let requestHandler = HandshakeRequestHandler(endpoint: endpoint)
                    let upgrader = NIOWebSocketClientUpgrader(
                        requestKey: WebSocketConnection.randomRequestKey(),
                        maxFrameSize: maxMessageBytes,
                        automaticErrorHandling: true,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandlers([
                                    NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16,
                                                                maxAccumulatedFrameSize: maxMessageBytes),
                                    WebSocketFrameHandler(connection: bound),
                                ])
                            }
                        })
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.removeHandler(requestHandler, promise: nil)
                        }))
                    try channel.pipeline.syncOperations.addHandler(requestHandler)
                }
            }
        bootstrap.connect(host: endpoint.host, port: endpoint.port).whenComplete { result in
            let connection = bound.value
            switch result {
            case .success(let channel):
                connection.channel = channel
                if connection.state == .closed { channel.close(promise: nil); return }
                channel.closeFuture.whenComplete { _ in bound.value.channelClosed() }
            case .failure(let error):
                connection.finish(reason: "connect to \(endpoint.host):\(endpoint.port) failed: \(error)")
            }
        }
    }

    /// Sends a text message (masked, as a client must).
    func send(text: String) {
        guard let channel, state == .open else { return }
        let buffer = channel.allocator.buffer(string: text)
        let frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Closes the connection; `reason` is what the delegate will report.
    func close(reason: String) {
        if closeReason == nil { closeReason = reason }
        switch state {
        case .closed: return
        case .connecting:
            if let channel { channel.close(promise: nil) } else { finish(reason: reason) }
        case .open:
            guard let channel else { return }
            // A close frame first (RFC 6455 §5.5.1), then the socket, without waiting for the server's reply.
            var data = channel.allocator.buffer(capacity: 2)
            data.write(webSocketErrorCode: .normalClosure)
            let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: data)
            channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    // MARK: - From the handlers

    func upgraded() {
        guard state == .connecting else { return }
        state = .open
        lastActivityNanos = WallClock.nanoseconds()
        delegate?.connectionOpened(self)
    }

    func received(_ message: ByteBuffer) {
        guard state == .open else { return }
        delegate?.connection(self, received: message)
    }

    func pinged() { delegate?.connectionPinged(self) }

    func peerClosing(code: WebSocketErrorCode?) {
        if closeReason == nil { closeReason = "server closed the WebSocket (code \(code.map { "\($0)" } ?? "none"))" }
    }

    func failed(_ error: Error) {
        if closeReason == nil { closeReason = "\(error)" }
        channel?.close(promise: nil)
    }

    private func channelClosed() {
        finish(reason: closeReason ?? "connection closed by the server")
    }

    private func finish(reason: String) {
        guard state != .closed else { return }
        let wasOpen = state == .open
        state = .closed
        delegate?.connectionClosed(self, reason: closeReason ?? reason, wasOpen: wasOpen)
    }

    static func randomRequestKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return base64(bytes)
    }

    private static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var i = 0
        while i < bytes.count {
            let b0 = Int(bytes[i]), b1 = i + 1 < bytes.count ? Int(bytes[i + 1]) : 0, b2 = i + 2 < bytes.count ? Int(bytes[i + 2]) : 0
            out.append(alphabet[b0 >> 2])
            out.append(alphabet[((b0 & 3) << 4) | (b1 >> 4)])
            out.append(i + 1 < bytes.count ? alphabet[((b1 & 15) << 2) | (b2 >> 6)] : "=")
            out.append(i + 2 < bytes.count ? alphabet[b2 & 63] : "=")
            i += 3
        }
        return out
    }
}

/// Sends the HTTP GET that the upgrade handler turns into a WebSocket handshake; reports a refused upgrade.
private final class HandshakeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let endpoint: WebSocketEndpoint
    init(endpoint: WebSocketEndpoint) { self.endpoint = endpoint }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        let defaultPort = endpoint.tls ? 443 : 80
        headers.add(name: "Host", value: endpoint.port == defaultPort ? endpoint.host : "\(endpoint.host):\(endpoint.port)")
        headers.add(name: "User-Agent", value: "k2-capture")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.target, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Only reached when the server did not switch protocols.
        if case .head(let head) = unwrapInboundIn(data) {
            context.fireErrorCaught(HandshakeError(endpoint: endpoint, status: head.status))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.fireErrorCaught(error)
    }
}

struct HandshakeError: Error, CustomStringConvertible {
    let endpoint: WebSocketEndpoint
    let status: HTTPResponseStatus
    var description: String { "WebSocket handshake with \(endpoint.url) refused: HTTP \(status.code) \(status.reasonPhrase)" }
}

/// Hands each complete message to the connection, answers pings, follows the close handshake.
private final class WebSocketFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let connection: NIOLoopBound<WebSocketConnection>
    init(connection: NIOLoopBound<WebSocketConnection>) { self.connection = connection }

    func handlerAdded(context: ChannelHandlerContext) {
        connection.value.upgraded()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary:
            connection.value.received(frame.unmaskedData)
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
            connection.value.pinged()
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readWebSocketErrorCode()
            connection.value.peerClosing(code: code)
            var reply = context.channel.allocator.buffer(capacity: 2)
            reply.write(webSocketErrorCode: code ?? .normalClosure)
            let close = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: reply)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(close)).whenComplete { _ in channel.close(promise: nil) }
        default:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        connection.value.failed(error)
    }
}
