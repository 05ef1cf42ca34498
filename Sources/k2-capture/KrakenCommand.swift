import ArgumentParser
import Capture
import Exchanges

struct KrakenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kraken",
        abstract: "Kraken trade channel, WebSocket v1 (source \"kraken\") or v2 (source \"kraken-v2\").",
        discussion: """
        v1: wss://ws.kraken.com with {"event":"subscribe","pair":[...],"subscription":{"name":"trade"}}; one frame \
        can carry several trades; streams are pairs ("XBT/USD").

        v2: wss://ws.kraken.com/v2 with {"method":"subscribe","params":{"channel":"trade","symbol":[...]}}; \
        trade_id gaps are recorded.

        Examples:
          k2-capture kraken --pairs XBT/USD,ETH/USD --out /data/kraken
          k2-capture kraken --api v2 --pairs BTC/USD,ETH/USD --out /data/kraken-v2 --duration 90s --json
        """)

    @Option(help: "Pairs, comma-separated; when not given XBT/USD,ETH/USD for v1 and BTC/USD,ETH/USD for v2.") var pairs: String?
    @Option(help: "WebSocket API: v1 or v2.") var api: String = "v1"
    @Option(help: "Open a replacement connection when the current one is this old; when not given, never.") var maxConnectionAge: String?
    @OptionGroup var common: CommonOptions
    @OptionGroup(title: "WebSocket options") var connection: WebSocketOptions

    func run() throws {
        guard let version = KrakenAPI(rawValue: api) else { throw ValidationError("--api must be v1 or v2") }
        let defaultPairs = version == .v1 ? "XBT/USD,ETH/USD" : "BTC/USD,ETH/USD"
        let subscription = try wrap { try KrakenSubscription(api: version, pairs: split(pairs ?? defaultPairs)) }
        let origin = try connection.checkedURL()
        let endpoint = try wrap { try subscription.endpoint(origin: origin) }
        var options = try common.captureOptions()
        try connection.apply(to: &options)
        options.maxConnectionAgeNanos = try maxConnectionAge.map { try CommonOptions.duration($0, "--max-connection-age") }
        let summary = WebSocketCaptureRunner.run(feed: version == .v1 ? .krakenV1 : .krakenV2, endpoint: endpoint,
                                                 subscribeMessage: subscription.subscribeMessage, options: options)
        try CaptureExit.finish(summary, json: common.json)
    }
}
