// k2-capture: records Binance, Kraken and Kafka streams byte-exact into segment logs. (Issue 3.)
import ArgumentParser
import Capture
import Exchanges
import Foundation
import K2CLI

struct K2Capture: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k2-capture",
        abstract: "Record exchange WebSocket streams (or a Kafka topic) byte-exact into a segment log.",
        discussion: """
        Every frame is stored exactly as received with its receive time; connects, disconnects and subscription
        replies are recorded as control records, and a jump in consecutive trade ids (Binance, Kraken v2) as a
        gap record, so a replay knows where data may be missing. Reconnects use exponential backoff with jitter;
        a silent connection is replaced (--stall-timeout); server pings are answered. SIGINT/SIGTERM flush and
        seal the log (exit 130). Exit 0: stopped by --duration or --max-messages; 1: the log could not be written;
        2: bad arguments or the log directory could not be opened. Logs are JSON lines on stderr.

        Examples:
          k2-capture binance --symbols BTCUSDT,ETHUSDT --out /data/binance
          k2-capture binance --symbols BTCUSDT --streams aggTrade,bookTicker --duration 2h --out /data/b
          k2-capture kraken --pairs XBT/USD,ETH/USD --out /data/kraken --metrics-port 9464
          k2-capture kraken --api v2 --pairs BTC/USD --out /data/kraken-v2 --json
          k2-capture binance --url ws://127.0.0.1:18080 --max-messages 1000 --out /tmp/log   # a local simulator
        """,
        version: ToolkitVersion.current,
        subcommands: [BinanceCommand.self, KrakenCommand.self, KafkaCommand.self])
}

struct BinanceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "binance",
        abstract: "Binance Spot trade streams on one combined-stream connection.",
        discussion: """
        Connects to wss://stream.binance.com:9443/stream?streams=btcusdt@trade/... (source "binance", one
        stream per symbol and type, e.g. "btcusdt@trade"). Binance closes connections at 24 h: before that
        (--max-connection-age) a new connection is opened, and the old one closed once both have delivered a
        common frame on every stream the old one carries (so nothing is lost when either lags). After
        --handover-timeout (10 s) without that (a quiet stream, or frames that differ per connection), the old
        one is closed anyway, and a stream whose new subscription lags more than that may miss frames. The overlap is recorded twice and
        removed later by k2-compact.

        Examples:
          k2-capture binance --symbols BTCUSDT,ETHUSDT --out /data/binance
          k2-capture binance --symbols BTCUSDT --streams aggTrade,depth@100ms,bookTicker --out /data/b --duration 15m
        """)

    @Option(help: "Symbols, comma-separated.") var symbols: String = "BTCUSDT,ETHUSDT"
    @Option(help: "Stream types besides trade, comma-separated (aggTrade, depth@100ms, bookTicker, ...).") var streams: String = ""
    @Option(help: "Open a replacement connection when the current one is this old.") var maxConnectionAge: String = "23h30m"
    @OptionGroup var common: CommonOptions

    func run() throws {
        let plan = try wrap { try BinanceStreams(symbols: split(symbols), extraStreamTypes: split(streams)) }
        if let url = common.url {
            try wrap { try CommandLineAddress.refuseCredentials(url, option: "--url", instead: "exchange streams take none") }
        }
        let endpoint = try wrap { try plan.endpoint(origin: common.url) }
        var options = try common.captureOptions()
        options.maxConnectionAgeNanos = try CommonOptions.duration(maxConnectionAge, "--max-connection-age")
        let summary = WebSocketCaptureRunner.run(feed: .binance, endpoint: endpoint, subscribeMessage: nil, options: options)
        try finish(summary, json: common.json)
    }
}

struct KrakenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kraken",
        abstract: "Kraken trade channel, WebSocket v1 (default, source \"kraken\") or v2 (source \"kraken-v2\").",
        discussion: """
        v1: wss://ws.kraken.com with {"event":"subscribe","pair":[...],"subscription":{"name":"trade"}}; one frame
        can carry several trades; streams are pairs ("XBT/USD"). v2: wss://ws.kraken.com/v2 with
        {"method":"subscribe","params":{"channel":"trade","symbol":[...]}}; trade_id gaps are recorded.

        Examples:
          k2-capture kraken --pairs XBT/USD,ETH/USD --out /data/kraken
          k2-capture kraken --api v2 --pairs BTC/USD,ETH/USD --out /data/kraken-v2 --duration 90s --json
        """)

    @Option(help: "Pairs, comma-separated (default XBT/USD,ETH/USD for v1, BTC/USD,ETH/USD for v2).") var pairs: String?
    @Option(help: "WebSocket API: v1 or v2.") var api: String = "v1"
    @Option(help: "Open a replacement connection when the current one is this old (default: never).") var maxConnectionAge: String?
    @OptionGroup var common: CommonOptions

    func run() throws {
        guard let version = KrakenAPI(rawValue: api) else { throw ValidationError("--api must be v1 or v2") }
        let defaultPairs = version == .v1 ? "XBT/USD,ETH/USD" : "BTC/USD,ETH/USD"
        let subscription = try wrap { try KrakenSubscription(api: version, pairs: split(pairs ?? defaultPairs)) }
        if let url = common.url {
            try wrap { try CommandLineAddress.refuseCredentials(url, option: "--url", instead: "exchange streams take none") }
        }
        let endpoint = try wrap { try subscription.endpoint(origin: common.url) }
        var options = try common.captureOptions()
        options.maxConnectionAgeNanos = try maxConnectionAge.map { try CommonOptions.duration($0, "--max-connection-age") }
        let summary = WebSocketCaptureRunner.run(feed: version == .v1 ? .krakenV1 : .krakenV2, endpoint: endpoint,
                                                 subscribeMessage: subscription.subscribeMessage, options: options)
        try finish(summary, json: common.json)
    }
}

func split(_ list: String) -> [String] {
    list.split(separator: ",").map { String($0) }
}

/// Turns a library validation error into an argument error (exit 2 with usage).
func wrap<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw ValidationError("\(error)") }
}

ProgramMain.run(K2Capture.self)
