import MetricsEndpoint
import Prometheus
import Dispatch
import Exchanges
import Foundation
import K2CLI
import NIOCore
import NIOPosix
import SegmentLog

/// Options shared by every WebSocket source of `k2-capture`.
public struct CaptureOptions: Sendable {
    public var directory: String
    public var writer = SegmentLogWriterOptions()
    public var durationNanos: Int64?
    public var maxMessages: Int64?
    public var maxFrameBytes = 1 << 20
    /// Where /metrics and /healthz are served (`--metrics-address`); nil: nowhere.
    public var metricsAddress: (host: String, port: Int)?
    public var stallTimeoutNanos: Int64 = 60_000_000_000
    public var maxConnectionAgeNanos: Int64?
    /// How long a replacement and the old connection may overlap without a common frame on every stream.
    public var handoverTimeoutNanos: Int64 = 10_000_000_000
    public var trustRootsFile: String?
    /// Called with the metrics port once the endpoint listens (tests and port 0).
    public var onMetricsListening: (@Sendable (Int) -> Void)?

    public init(directory: String) { self.directory = directory }
}

/// Runs one WebSocket capture to its end (limit, duration, signal or a write failure) and summarises it.
public enum WebSocketCaptureRunner {
    public static func run(feed: ExchangeFeed, endpoint: WebSocketEndpoint, subscribeMessage: String?,
                           options: CaptureOptions) -> CaptureSummary {
        let started = WallClock.monotonicNanoseconds()
        let metrics = CaptureMetrics(source: feed.sourceName)
        var summary = CaptureSummary.notStarted(source: feed.sourceName, directory: options.directory, url: endpoint.url)
        guard let writer = options.openLog(recordingFailureIn: &summary) else { return summary }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let loop = group.next()
        let recorder = FrameRecorder(writer: writer, feed: feed, maxFrameBytes: options.maxFrameBytes, metrics: metrics)
        do {
            let streams = try recorder.continueGapDetection(directory: options.directory)
            if streams > 0 { CaptureLog.info("gap-detection-continued", [("directory", options.directory), ("streams", streams)]) }
        } catch {
            // The log's tail was readable to the writer; if not to this read, gaps across the restart go unmarked.
            CaptureLog.warn("gap-detection-not-continued", [("directory", options.directory), ("error", "\(error)")])
        }
        var settings = WebSocketCapture.Settings(feed: feed, endpoint: endpoint, subscribeMessage: subscribeMessage)
        settings.trustRootsFile = options.trustRootsFile
        settings.stallTimeoutNanos = options.stallTimeoutNanos
        settings.maxConnectionAgeNanos = options.maxConnectionAgeNanos
        settings.handoverTimeoutNanos = options.handoverTimeoutNanos
        settings.maxFrameBytes = options.maxFrameBytes
        settings.maxMessageBytes = max(64 << 20, options.maxFrameBytes * 4)
        settings.maxMessages = options.maxMessages

        let future: EventLoopFuture<WebSocketCapture.StopReason>
        let capture: NIOLoopBound<WebSocketCapture>
        var metricsServer: MetricsHTTPServer?
        do {
            (future, capture, metricsServer) = try loop.submit { () -> (EventLoopFuture<WebSocketCapture.StopReason>, NIOLoopBound<WebSocketCapture>, MetricsHTTPServer?) in
                let session = try WebSocketCapture(settings: settings, recorder: recorder, eventLoop: loop)
                let bound = NIOLoopBound(session, eventLoop: loop)
                if let duration = options.durationNanos {
                    loop.scheduleTask(in: .nanoseconds(duration)) { bound.value.stop(.duration) }
                }
                return (session.start(), bound, nil)
            }.wait()
        } catch {
            summary.error = "\(error)"
            CaptureLog.error("start-failed", [("error", "\(error)")])
            try? writer.close()
            return summary
        }
        if let (host, port) = options.metricsAddress {
            // The counters live on `loop`, where the server renders: published to swift-metrics there, no lock.
            let registry = PrometheusCollectorRegistry()
            let export = CaptureMetricsExport(factory: DescribedPrometheusMetricsFactory(registry: registry, help: CaptureMetrics.help),
                                              source: feed.sourceName)
            do {
                metricsServer = try MetricsHTTPServer.start(on: loop, host: host, port: port) {
                    export.publish(metrics, streamNames: recorder.streamNames, nowNanos: WallClock.nanoseconds())
                    return registry.emitToString()
                }
            } catch {
                CaptureLog.error("metrics-failed", [("address", "\(host):\(port)"), ("error", "\(error)")])
            }
        }
        if let metricsServer, let (host, _) = options.metricsAddress {
            CaptureLog.info("metrics-listening", [("url", "http://\(host):\(metricsServer.port)/metrics")])
            options.onMetricsListening?(metricsServer.port)
        }
        let signals = SignalWatcher(signals: [SIGINT, SIGTERM]) { number in
            loop.execute { capture.value.stop(.signal(number)) }
        }
        let reason = (try? future.wait()) ?? .writeFailed("the capture loop ended unexpectedly")
        signals.cancel()
        metricsServer?.close()

        var closeError: String?
        do { try writer.close() } catch { closeError = "\(error)" }
        summary.durationSeconds = Double(WallClock.monotonicNanoseconds() - started) / 1e9
        switch reason {
        case .maxMessages: summary.stopReason = "max-messages"; summary.exitCode = K2ExitCode.success.rawValue
        case .duration: summary.stopReason = "duration"; summary.exitCode = K2ExitCode.success.rawValue
        case .signal: summary.stopReason = "signal"; summary.exitCode = K2ExitCode.interrupted.rawValue
        case .writeFailed(let message):
            summary.stopReason = "write-failed"
            summary.exitCode = K2ExitCode.failure.rawValue
            summary.error = "cannot write the segment log in \(options.directory): \(message)"
        }
        if let closeError {
            summary.exitCode = K2ExitCode.failure.rawValue
            summary.error = (summary.error.map { $0 + "; " } ?? "") + "closing the segment log in \(options.directory) failed: \(closeError)"
        }
        let names = recorder.streamNames
        let lastSequences = writer.lastSequences
        summary.streams = metrics.streams.enumerated().compactMap { index, counters in
            guard index < names.count else { return nil }
            let sequence = lastSequences[StreamKey(source: feed.sourceName, stream: names[index])] ?? 0
            guard counters.messages > 0 || sequence > 0 else { return nil }
            return CaptureSummary.Stream(stream: names[index], messages: counters.messages, bytes: counters.bytes, gaps: counters.gaps,
                                         missingIds: counters.missingIds, malformed: counters.malformed, oversized: counters.oversized,
                                         lastSequence: sequence)
        }
        summary.messages = metrics.totalMessages
        summary.bytes = metrics.totalBytes
        summary.gaps = metrics.totalGaps
        summary.malformed = metrics.totalMalformed
        summary.oversized = metrics.totalOversized
        summary.connects = metrics.connects
        summary.reconnects = metrics.reconnects
        summary.disconnects = metrics.disconnects
        summary.stalls = metrics.stalls
        summary.pings = metrics.pings
        return summary
    }
}

/// Delivers SIGINT/SIGTERM to a handler instead of ending the process, so the log is flushed and sealed.
final class SignalWatcher {
    private var sources: [DispatchSourceSignal] = []

    init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        for number in signals {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            sources.append(source)
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
