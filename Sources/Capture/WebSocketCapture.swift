import Exchanges
import NIOCore
import NIOPosix
import NIOSSL
import SegmentLog

/// Records one exchange feed: keeps a subscribed WebSocket connection alive (reconnect with exponential
/// backoff and jitter, a stall watchdog, make-before-break before the exchange's connection age limit) and
/// hands every message to the `FrameRecorder`. Confined to one event loop.
final class WebSocketCapture: WebSocketConnectionDelegate {
    struct Settings {
        var feed: ExchangeFeed
        var endpoint: WebSocketEndpoint
        /// Sent as a text message once the WebSocket is open (Kraken); nil when the URL subscribes (Binance).
        var subscribeMessage: String?
        /// PEM file of trusted roots for wss (default: the system's).
        var trustRootsFile: String?
        var stallTimeoutNanos: Int64 = 60_000_000_000
        /// Open a replacement connection when the current one is this old (Binance closes at 24 h).
        var maxConnectionAgeNanos: Int64?
        var reconnectInitialNanos: Int64 = 250_000_000
        var reconnectMaxNanos: Int64 = 30_000_000_000
        var maxFrameBytes: Int = 1 << 20
        /// Largest message the WebSocket decoder accepts at all (bigger ones end the connection).
        var maxMessageBytes: Int = 64 << 20
        var maxMessages: Int64?
        /// How long a replacement and the old connection may run side by side without delivering a common
        /// frame before the old one is closed anyway (a feed whose copies differ per connection).
        var handoverTimeoutNanos: Int64 = 10_000_000_000
    }

    enum StopReason: Equatable {
        case maxMessages, duration, signal(Int32), writeFailed(String)
    }

    let settings: Settings
    let recorder: FrameRecorder
    let eventLoop: EventLoop
    private let tls: NIOSSLContext?
    private var nextConnectionId = 1
    private var primary: WebSocketConnection?
    private var replacement: WebSocketConnection?
    private var handover = Handover()
    private var connections: [WebSocketConnection] = []
    private var failedAttempts = 0
    private var hadConnection = false
    private var reconnectScheduled = false
    private var nextReplacementAttemptNanos: Int64 = 0
    private var watchdog: RepeatedTask?
    private(set) var stopReason: StopReason?
    private var messages: Int64 = 0
    private let stopped: EventLoopPromise<StopReason>

    var metrics: CaptureMetrics { recorder.metrics }

    init(settings: Settings, recorder: FrameRecorder, eventLoop: EventLoop) throws {
        self.settings = settings
        self.recorder = recorder
        self.eventLoop = eventLoop
        self.stopped = eventLoop.makePromise()
        if settings.endpoint.tls {
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let file = settings.trustRootsFile {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
            }
            tls = try NIOSSLContext(configuration: configuration)
        } else {
            tls = nil
        }
    }

    /// Starts the capture; the future completes once it has stopped and every connection is closed.
    func start() -> EventLoopFuture<StopReason> {
        eventLoop.assertInEventLoop()
        connect()
        let tick = TimeAmount.nanoseconds(max(10_000_000, min(1_000_000_000, settings.stallTimeoutNanos / 4)))
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        watchdog = eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { _ in bound.value.watch() }
        return stopped.futureResult
    }

    /// Stops: no message is recorded after this; connections are closed and their disconnects recorded.
    func stop(_ reason: StopReason) {
        eventLoop.assertInEventLoop()
        guard stopReason == nil else { return }
        stopReason = reason
        watchdog?.cancel()
        let why: String
        switch reason {
        case .maxMessages: why = "stop: --max-messages reached"
        case .duration: why = "stop: --duration elapsed"
        case .signal(let number): why = "stop: signal \(number)"
        case .writeFailed(let message): why = "stop: write failed: \(message)"
        }
        for connection in connections { connection.close(reason: why) }
        finishIfIdle()
    }

    private func finishIfIdle() {
        if let reason = stopReason, connections.isEmpty { stopped.succeed(reason) }
    }

    private func connect() {
        guard stopReason == nil else { return }
        let connection = WebSocketConnection(id: nextConnectionId, endpoint: settings.endpoint, eventLoop: eventLoop, delegate: self)
        nextConnectionId += 1
        connections.append(connection)
        if primary == nil {
            primary = connection
        } else {
            replacement = connection
            handover = Handover(oldStreams: primary?.dataStreams ?? [])
        }
        CaptureLog.info("connecting", [("connection", connection.id), ("url", settings.endpoint.url),
                                       ("role", connection === primary ? "primary" : "replacement")])
        connection.start(tls: tls, maxMessageBytes: settings.maxMessageBytes)
    }

    private func scheduleReconnect() {
        guard stopReason == nil, !reconnectScheduled else { return }
        reconnectScheduled = true
        failedAttempts += 1
        let delay = backoffNanos(attempt: failedAttempts)
        CaptureLog.info("reconnect-scheduled", [("attempt", failedAttempts), ("delay_ms", delay / 1_000_000)])
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.scheduleTask(in: .nanoseconds(delay)) {
            let capture = bound.value
            capture.reconnectScheduled = false
            if capture.primary == nil { capture.connect() }
        }
    }

    /// Exponential backoff with "equal jitter": half the step fixed, half random, so many clients
    /// dropped at once do not come back in lockstep.
    func backoffNanos(attempt: Int) -> Int64 {
        let exponent = min(attempt - 1, 30)
        let step = min(settings.reconnectMaxNanos, settings.reconnectInitialNanos << Int64(exponent))
        return step / 2 + Int64.random(in: 0...max(1, step / 2))
    }

    private func watch() {
        guard stopReason == nil else { return }
        let now = WallClock.nanoseconds()
        for connection in connections {
            let silent = now - connection.lastActivityNanos
            if connection.state == .open && silent > settings.stallTimeoutNanos {
                metrics.stalls += 1
                CaptureLog.warn("stall", [("connection", connection.id), ("silent_ms", silent / 1_000_000)])
                connection.close(reason: "stalled: no message for \(silent / 1_000_000) ms (--stall-timeout)")
            } else if connection.state == .connecting && silent > settings.stallTimeoutNanos + 10_000_000_000 {
                connection.close(reason: "handshake timed out")
            }
        }
        if let replacement, handover.startedNanos > 0, now - handover.startedNanos > settings.handoverTimeoutNanos {
            let seconds = settings.handoverTimeoutNanos / 1_000_000_000
            CaptureLog.warn("handover-without-overlap", [("connection", replacement.id), ("timeout_s", seconds)])
            completeHandover(reason: "replaced by connection \(replacement.id) (--max-connection-age; no common frame within \(seconds) s)")
        }
        if let maxAge = settings.maxConnectionAgeNanos, let primary, primary.state == .open, replacement == nil,
           now - primary.openedAtNanos > maxAge, now >= nextReplacementAttemptNanos {
            CaptureLog.info("max-connection-age", [("connection", primary.id), ("age_ms", (now - primary.openedAtNanos) / 1_000_000)])
            connect()
        }
    }

    // MARK: - WebSocketConnectionDelegate

    func connectionOpened(_ connection: WebSocketConnection) {
        guard stopReason == nil else { connection.close(reason: "stopping"); return }
        metrics.connects += 1
        if hadConnection && connection === primary { metrics.reconnects += 1 }
        hadConnection = true
        CaptureLog.info("connected", [("connection", connection.id), ("url", connection.endpoint.url)])
        do {
            try recorder.recordConnect(url: connection.endpoint.url, connection: connection.id)
        } catch {
            writeFailed(error)
            return
        }
        if let message = settings.subscribeMessage { connection.send(text: message) }
    }

    func connection(_ connection: WebSocketConnection, received message: ByteBuffer) {
        guard stopReason == nil else { return }
        let kind: FrameKind
        do {
            kind = try recorder.record(message: message)
        } catch {
            writeFailed(error)
            return
        }
        connection.lastActivityNanos = recorder.lastReceiveTimeNanos
        messages += 1
        if connection === primary { failedAttempts = 0 }
        if kind == .data { connection.deliveredData(onStream: recorder.lastStreamIndex) }
        if let replacement, kind == .data {
            // Make-before-break: the old connection goes once both have delivered a common frame on every stream
            // the old one carries (those frames are recorded twice).
            let stream = recorder.lastStreamIndex
            let overlapped = connection === replacement
                ? handover.new(delivered: message, stream: stream, nowNanos: recorder.lastReceiveTimeNanos)
                : connection === primary && handover.old(delivered: message, stream: stream)
            if overlapped { completeHandover(reason: "replaced by connection \(replacement.id) (--max-connection-age)") }
        }
        if let limit = settings.maxMessages, messages >= limit { stop(.maxMessages) }
    }

    func connectionPinged(_ connection: WebSocketConnection) {
        metrics.pings += 1
        connection.lastActivityNanos = WallClock.nanoseconds()
    }

    func connectionClosed(_ connection: WebSocketConnection, reason: String, wasOpen: Bool) {
        connections.removeAll { $0 === connection }
        if wasOpen {
            metrics.disconnects += 1
            CaptureLog.info("disconnected", [("connection", connection.id), ("reason", reason)])
            do {
                try recorder.recordDisconnect(reason: reason, connection: connection.id)
            } catch {
                writeFailed(error)
            }
        } else {
            CaptureLog.warn("connect-failed", [("connection", connection.id), ("reason", reason)])
        }
        if connection === replacement {
            replacement = nil
            handover = Handover()
            nextReplacementAttemptNanos = WallClock.nanoseconds() + backoffNanos(attempt: 1)
        }
        if connection === primary {
            primary = nil
            if let replacement {
                primary = replacement
                self.replacement = nil
                handover = Handover()
            } else {
                scheduleReconnect()
            }
        }
        finishIfIdle()
    }

    /// The replacement becomes the primary connection; the old one is closed.
    private func completeHandover(reason: String) {
        guard let replacement, let old = primary else { return }
        primary = replacement
        self.replacement = nil
        handover = Handover()
        failedAttempts = 0
        old.close(reason: reason)
    }

    private func writeFailed(_ error: Error) {
        CaptureLog.error("write-failed", [("directory", "\(error)")])
        stop(.writeFailed("\(error)"))
    }

    var totalMessages: Int64 { messages }
}
