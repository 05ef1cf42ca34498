import Exchanges
import Foundation
import K2Core
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// A local exchange on 127.0.0.1 speaking Binance's combined-stream URL and SUBSCRIBE method, Kraken v1's
/// `subscribe` event and Kraken v2's `subscribe` method, over ws:// or wss:// (a throw-away self-signed
/// certificate made with the `openssl` CLI). It plays one `SimulatorScenario` across its connections and
/// records every frame it sent in a `SimulatorManifest`.
public final class ExchangeSimulator: @unchecked Sendable {
    public let scenario: SimulatorScenario
    public let manifest: SimulatorManifest
    /// PEM certificate the client must trust for wss (nil for ws).
    public private(set) var certificatePath: String?
    public private(set) var port = 0

    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let loop: EventLoop
    private var serverChannel: Channel?
    private let useTLS: Bool
    // Driver state, on `loop`.
    private var connections: [SimulatedConnection] = []
    private var nextConnectionId = 1
    private var cursor = 0
    /// Connections that have subscribed so far (what `.awaitConnections` counts).
    private var subscribedConnections = 0
    private var timerPending = false
    private var finished = false
    private let finishedPromise: EventLoopPromise<Void>

    public init(scenario: SimulatorScenario, tls: Bool, manifest: SimulatorManifest = SimulatorManifest()) {
        self.scenario = scenario
        self.manifest = manifest
        self.useTLS = tls
        self.loop = group.next()
        self.finishedPromise = loop.makePromise()
    }

    public var url: String { "\(useTLS ? "wss" : "ws")://127.0.0.1:\(port)" }

    /// Listens on 127.0.0.1 (`port` 0: any free port); returns the port.
    @discardableResult
    public func start(port requested: Int = 0) throws -> Int {
        var sslContext: NIOSSLContext?
        if useTLS {
            let (certificate, key) = try SelfSignedCertificate.make()
            certificatePath = certificate
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            sslContext = try NIOSSLContext(configuration: configuration)
        }
        let simulator = self
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    let upgrader = NIOWebSocketServerUpgrader(
                        maxFrameSize: 1 << 20,
                        shouldUpgrade: { channel, head in
                            let accepted = simulator.accepts(uri: head.uri)
                            return channel.eventLoop.makeSucceededFuture(accepted ? HTTPHeaders() : nil)
                        },
                        upgradePipelineHandler: { channel, head in
                            channel.eventLoop.makeCompletedFuture {
                                let operations = channel.pipeline.syncOperations
                                // Next to the frame encoder, on its socket side: pre-encoded frames skip the encoder.
                                let writer = RawFrameWriter()
                                try operations.addHandler(writer, position: .before(try operations.handler(type: WebSocketFrameEncoder.self)))
                                let connection = simulator.connectionOpened(channel: channel, uri: head.uri, writer: writer)
                                try operations.addHandler(SimulatorFrameHandler(connection: connection, simulator: simulator))
                            }
                        })
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                }
            }
            .bind(host: "127.0.0.1", port: requested).wait()
        serverChannel = channel
        port = channel.localAddress?.port ?? 0
        return port
    }

    /// Completes when the whole script has been played.
    public func waitUntilFinished() throws { try finishedPromise.futureResult.wait() }

    public func stop() {
        try? serverChannel?.close().wait()
        try? loop.submit {
            for connection in self.connections { connection.channel.close(promise: nil) }
        }.wait()
        if !finished { finishedPromise.succeed(()) }
        try? group.syncShutdownGracefully()
        if let certificatePath { try? FileManager.default.removeItem(atPath: (certificatePath as NSString).deletingLastPathComponent) }
    }

    // MARK: - Connections (on `loop`)

    private func accepts(uri: String) -> Bool {
        let path = uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? uri
        switch scenario.feed {
        case .binance: return path == "/stream" || path == "/ws"
        case .krakenV1: return path == "/" || path == ""
        case .krakenV2: return path == "/v2"
        }
    }

    fileprivate func connectionOpened(channel: Channel, uri: String, writer: RawFrameWriter) -> SimulatedConnection {
        let connection = SimulatedConnection(id: nextConnectionId, channel: channel, writer: writer)
        connection.manifest = manifest
        nextConnectionId += 1
        connections.append(connection)
        // The HTTP handlers leave the pipeline only after this returns: speak WebSocket from the next tick on.
        loop.execute { self.greet(connection, uri: uri) }
        return connection
    }

    private func greet(_ connection: SimulatedConnection, uri: String) {
        switch scenario.feed {
        case .binance:
            if let query = uri.split(separator: "?", maxSplits: 1).dropFirst().first,
               query.hasPrefix("streams=") {
                connection.streams = Set(query.dropFirst("streams=".count).split(separator: "/").map(String.init))
                markSubscribed(connection)
            }
        case .krakenV1:
            send(.status, stream: "", text: "{\"connectionID\":\(8_000_000_000 + connection.id),\"event\":\"systemStatus\",\"status\":\"online\",\"version\":\"1.9.0\"}", to: connection)
        case .krakenV2:
            send(.status, stream: "", text: "{\"channel\":\"status\",\"data\":[{\"api_version\":\"v2\",\"connection_id\":\(8_000_000_000 + connection.id),\"system\":\"online\",\"version\":\"2.0.0\"}],\"type\":\"update\"}", to: connection)
        }
        connection.channel.flush()
        if connection.subscribed { resume() }
    }

    fileprivate func connectionClosed(_ connection: SimulatedConnection) {
        connections.removeAll { $0 === connection }
    }

    /// A text message from the client: a subscribe request in the feed's protocol.
    fileprivate func received(text: [UInt8], from connection: SimulatedConnection) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text)) as? [String: Any] else { return }
        switch scenario.feed {
        case .binance:
            guard (object["method"] as? String) == "SUBSCRIBE", let params = object["params"] as? [String] else { return }
            let id = object["id"].map { "\($0)" } ?? "null"
            connection.streams.formUnion(params)
            send(.reply, stream: "", text: "{\"result\":null,\"id\":\(id)}", to: connection)
        case .krakenV1:
            guard (object["event"] as? String) == "subscribe", let pairs = object["pair"] as? [String] else { return }
            for (index, pair) in pairs.enumerated() {
                let channelId = 100 + (FrameFactory(feed: .krakenV1).instruments.firstIndex(of: pair) ?? index)
                send(.reply, stream: pair, text: "{\"channelID\":\(channelId),\"channelName\":\"trade\",\"event\":\"subscriptionStatus\",\"pair\":\(JSONText.quoted(pair)),\"status\":\"subscribed\",\"subscription\":{\"name\":\"trade\"}}", to: connection)
                connection.streams.insert(pair)
            }
        case .krakenV2:
            guard (object["method"] as? String) == "subscribe", let params = object["params"] as? [String: Any],
                  let symbols = params["symbol"] as? [String] else { return }
            for symbol in symbols {
                send(.reply, stream: "", text: "{\"method\":\"subscribe\",\"result\":{\"channel\":\"trade\",\"snapshot\":false,\"symbol\":\(JSONText.quoted(symbol))},\"success\":true,\"time_in\":\"2024-02-09T10:00:00.000000Z\",\"time_out\":\"2024-02-09T10:00:00.000100Z\"}", to: connection)
                connection.streams.insert(symbol)
            }
        }
        connection.channel.flush()
        markSubscribed(connection)
        resume()
    }

    private func markSubscribed(_ connection: SimulatedConnection) {
        guard !connection.subscribed else { return }
        connection.subscribed = true
        subscribedConnections += 1
    }

    private func send(_ kind: SimulatorManifest.Entry.Kind, stream: String, text: String, to connection: SimulatedConnection) {
        let bytes = Array(text.utf8)
        manifest.append(.init(connection: connection.id, kind: kind, stream: stream, bytes: bytes))
        let frame = WebSocketFrame(fin: true, opcode: .text, data: connection.channel.allocator.buffer(bytes: bytes))
        connection.channel.write(frame, promise: nil)
    }

    // MARK: - The script (on `loop`)

    fileprivate func resume() {
        guard !timerPending else { return }
        advance()
    }

    /// Plays steps until the script ends, a step waits, or the loop should run other work. Trade frames are
    /// encoded straight into one buffer per connection and written a batch at a time (a frame through the
    /// pipeline's encoder costs more than the capture's whole handling of it); anything else is written as a
    /// `WebSocketFrame` after the batch before it.
    private func advance() {
        var active = activeConnections()
        defer { for connection in active { connection.flushBatch() } }
        var batch = 0
        while cursor < scenario.count {
            guard !active.isEmpty else { return }
            if active.contains(where: { !$0.channel.isWritable }) {
                return  // the deferred flush; continued by channelWritabilityChanged
            }
            let step = scenario.step(cursor)
            cursor += 1
            switch step {
            case .frame(let stream, let bytes):
                for connection in active where connection.channel.isActive && (stream.isEmpty || connection.streams.contains(stream)) {
                    if manifest.keepsEntries {
                        manifest.append(.init(connection: connection.id, kind: .frame, stream: stream, bytes: bytes))
                    } else {
                        connection.unrecordedFrames += 1
                    }
                    connection.appendTextFrame(bytes)
                }
            case .ping(let payload):
                for connection in active {
                    connection.writeBatch()
                    manifest.append(.init(connection: connection.id, kind: .ping, stream: "", bytes: payload))
                    let frame = WebSocketFrame(fin: true, opcode: .ping, data: connection.channel.allocator.buffer(bytes: payload))
                    connection.channel.write(frame, promise: nil)
                }
            case .disconnect:
                for connection in active {
                    manifest.append(.init(connection: connection.id, kind: .disconnect, stream: "", bytes: []))
                    connection.flushBatch()
                    connection.muted = true
                    // Close a moment later: closing with the client's pong still unread would send an RST, and
                    // an RST makes the client's kernel drop frames it has received but not yet read.
                    let channel = connection.channel
                    loop.scheduleTask(in: .milliseconds(100)) { channel.close(promise: nil) }
                }
                return
            case .stall:
                for connection in active {
                    manifest.append(.init(connection: connection.id, kind: .stall, stream: "", bytes: []))
                    connection.flushBatch()
                    connection.muted = true
                }
                return
            case .pause(let milliseconds):
                schedule(after: Int64(milliseconds) * 1_000_000)
                return
            case .awaitConnections(let count):
                if subscribedConnections < count {
                    cursor -= 1  // resumed by the subscription of the connection awaited
                    return
                }
                for connection in active { connection.flushBatch() }
                active = activeConnections()
            }
            batch += 1
            if scenario.intervalNanos > 0 {
                schedule(after: scenario.intervalNanos)
                return
            }
            if active.contains(where: { $0.batchBytes >= 32 * 1024 }) {
                for connection in active { connection.flushBatch() }
            }
            if batch >= 256 {
                timerPending = true
                loop.execute { self.timerPending = false; self.advance() }
                return
            }
        }
        for connection in connections { connection.flushBatch() }
        if !finished {
            finished = true
            finishedPromise.succeed(())
        }
    }

    private func activeConnections() -> [SimulatedConnection] {
        connections.filter { $0.subscribed && !$0.muted && $0.channel.isActive }
    }

    private func schedule(after nanos: Int64) {
        timerPending = true
        loop.scheduleTask(in: .nanoseconds(nanos)) {
            self.timerPending = false
            self.advance()
        }
    }

    fileprivate func writabilityChanged() {
        resume()
    }

    fileprivate func pongReceived() { manifest.pongReceived() }
}

final class SimulatedConnection {
    let id: Int
    let channel: Channel
    let writer: RawFrameWriter
    var streams: Set<String> = []
    var subscribed = false
    var muted = false
    /// Frames sent while the manifest keeps only counts, not yet added to it.
    var unrecordedFrames = 0
    weak var manifest: SimulatorManifest?
    /// Encoded WebSocket frames not yet written.
    private var batch: ByteBuffer

    init(id: Int, channel: Channel, writer: RawFrameWriter) {
        self.id = id
        self.channel = channel
        self.writer = writer
        batch = channel.allocator.buffer(capacity: 0)
    }

    var batchBytes: Int { batch.readableBytes }

    /// Appends an unmasked, final text frame (RFC 6455 §5.2: the server never masks).
    func appendTextFrame(_ payload: [UInt8]) {
        if batch.capacity == 0 { batch.reserveCapacity(48 * 1024) }
        batch.writeInteger(UInt8(0x81))
        let count = payload.count
        if count < 126 {
            batch.writeInteger(UInt8(count))
        } else if count <= 0xFFFF {
            batch.writeInteger(UInt8(126))
            batch.writeInteger(UInt16(count))
        } else {
            batch.writeInteger(UInt8(127))
            batch.writeInteger(UInt64(count))
        }
        batch.writeBytes(payload)
    }

    /// Writes the batch (not flushed), so a frame written through the pipeline next comes after it.
    func writeBatch() {
        if unrecordedFrames > 0 {
            manifest?.addFramesSent(unrecordedFrames)
            unrecordedFrames = 0
        }
        guard batch.readableBytes > 0 else { return }
        writer.write(batch)
        batch = channel.allocator.buffer(capacity: 0)
    }

    func flushBatch() {
        writeBatch()
        channel.flush()
    }
}

/// Sits between the WebSocket frame encoder and the socket (or TLS), so already encoded frames can be written
/// without passing the encoder; what the encoder writes passes through unchanged.
final class RawFrameWriter: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func write(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(bytes), promise: nil)
    }
}

private final class SimulatorFrameHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let connection: SimulatedConnection
    let simulator: ExchangeSimulator
    private var text: [UInt8] = []

    init(connection: SimulatedConnection, simulator: ExchangeSimulator) {
        self.connection = connection
        self.simulator = simulator
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .continuation:
            text.append(contentsOf: frame.unmaskedData.readableBytesView)
            if frame.fin {
                let message = text
                text = []
                simulator.received(text: message, from: connection)
            }
        case .pong:
            simulator.pongReceived()
        case .connectionClose:
            var reply = context.channel.allocator.buffer(capacity: 2)
            reply.write(webSocketErrorCode: .normalClosure)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply))).whenComplete { _ in
                channel.close(promise: nil)
            }
        default:
            break
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { simulator.writabilityChanged() }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        simulator.connectionClosed(connection)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
