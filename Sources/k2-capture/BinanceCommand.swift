import ArgumentParser
import Capture
import Exchanges

struct BinanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "binance",
        abstract: "Binance Spot trade streams on one combined-stream connection.",
        discussion: """
        Connects to wss://stream.binance.com:9443/stream?streams=btcusdt@trade/... (source "binance", one stream \
        per symbol and type, e.g. "btcusdt@trade").

        Binance closes connections at 24 h: before that (--max-connection-age) a new connection is opened, and \
        the old one closed once both have delivered a common frame on every stream the old one carries (so \
        nothing is lost when either lags). After --handover-timeout without that (a quiet stream, or frames that \
        differ per connection), the old one is closed anyway, and a stream whose new subscription lags more than \
        that may miss frames. The overlap is recorded twice and removed later by k2-compact.

        Examples:
          k2-capture binance --symbols BTCUSDT,ETHUSDT --out /data/binance
          k2-capture binance --symbols BTCUSDT --streams aggTrade,depth@100ms,bookTicker --out /data/b --duration 15m
        """)

    @Option(help: "Symbols, comma-separated.") var symbols: String = "BTCUSDT,ETHUSDT"
    @Option(help: "Stream types besides trade, comma-separated (aggTrade, depth@100ms, bookTicker, ...).") var streams: String = ""
    @Option(help: "Open a replacement connection when the current one is this old.") var maxConnectionAge: String = "23h30m"
    @OptionGroup var common: CommonOptions
    @OptionGroup(title: "WebSocket options") var connection: WebSocketOptions

    func run() throws {
        let plan = try wrap { try BinanceStreams(symbols: split(symbols), extraStreamTypes: split(streams)) }
        let origin = try connection.checkedURL()
        let endpoint = try wrap { try plan.endpoint(origin: origin) }
        var options = try common.captureOptions()
        try connection.apply(to: &options)
        options.maxConnectionAgeNanos = try CommonOptions.duration(maxConnectionAge, "--max-connection-age")
        let summary = WebSocketCaptureRunner.run(feed: .binance, endpoint: endpoint, subscribeMessage: nil, options: options)
        try CaptureExit.finish(summary, json: common.json)
    }
}
