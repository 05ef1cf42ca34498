import ArgumentParser
import Capture
import K2CLI

/// Options of the WebSocket sources (binance, kraken) only: the connection, its watchdogs and frame limits.
struct WebSocketOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Frames above this size are kept with the oversized flag, not parsed (64K, 1M; powers of 1024).", valueName: "size"))
    var maxFrameBytes = ByteSize(bytes: 1 << 20)

    @Option(help: ArgumentHelp("Reconnect when a connection has been silent this long.", valueName: "duration"))
    var stallTimeout: String = "60s"

    @Option(help: ArgumentHelp("With --max-connection-age: how long the old and the new connection may run side by side without a common frame on every stream before the old one is closed anyway (a quiet stream, or frames that differ per connection).", valueName: "duration"))
    var handoverTimeout: String = "10s"

    @Option(help: ArgumentHelp("Replace ws[s]://HOST:PORT of the exchange URL (the path and subscription stay).", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("PEM file of certificates to trust for wss:// instead of the system's.", valueName: "file"))
    var caFile: String?

    func apply(to options: inout CaptureOptions) throws {
        options.maxFrameBytes = Int(maxFrameBytes.bytes)
        options.stallTimeoutNanos = try CommonOptions.duration(stallTimeout, "--stall-timeout")
        options.handoverTimeoutNanos = try CommonOptions.duration(handoverTimeout, "--handover-timeout")
        options.trustRootsFile = caFile
    }

    /// `--url`, refused when it carries credentials (exchange streams take none).
    func checkedURL() throws -> String? {
        guard let url else { return nil }
        do {
            try CommandLineAddress.refuseCredentials(url, option: "--url", instead: "exchange streams take none")
        } catch {
            throw ValidationError("\(error)")
        }
        return url
    }
}
