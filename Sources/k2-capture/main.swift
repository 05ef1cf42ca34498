// k2-capture: records Binance, Kraken and Kafka streams byte-exact into segment logs. (Issue 3.)
import ArgumentParser
import K2CLI

struct K2Capture: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k2-capture",
        abstract: "Record exchange WebSocket streams (or a Kafka topic) byte-exact into a segment log.",
        discussion: """
        Every frame is stored exactly as received with its receive time; connects, disconnects and subscription \
        replies are recorded as control records, and a jump in consecutive trade ids (Binance, Kraken v2) as a gap \
        record, so a replay knows where data may be missing. Reconnects use exponential backoff with jitter; a \
        silent connection is replaced (--stall-timeout); server pings are answered. `k2-capture kafka` backs up a \
        Kafka topic instead.

        SIGINT/SIGTERM flush and seal the log (exit 130). Exit 0: stopped by --duration, --max-messages or the \
        end of the range; 1: the log could not be written; 2: bad arguments or the log directory could not be \
        opened. Logs are JSON lines on stderr; --json prints the summary as one JSON object on stdout.

        Sizes (--segment-bytes, --max-frame-bytes) are bytes or a number with K, M, G or T, with or without B or \
        iB, in any case; all are powers of 1024 (256M = 256MB = 256MiB = 268435456 bytes).

        Examples:
          k2-capture binance --symbols BTCUSDT,ETHUSDT --out /data/binance
          k2-capture binance --symbols BTCUSDT --streams aggTrade,bookTicker --duration 2h --out /data/b
          k2-capture kraken --pairs XBT/USD,ETH/USD --out /data/kraken --metrics-address 127.0.0.1:9464
          k2-capture kraken --api v2 --pairs BTC/USD --out /data/kraken-v2 --json
          k2-capture binance --url ws://127.0.0.1:18080 --max-messages 1000 --out /tmp/log
          k2-capture kafka --bootstrap localhost:9092 --topic market.crypto.trades.binance.raw --until-end --out /backup/binance
        """,
        version: ToolkitVersion.current,
        subcommands: [BinanceCommand.self, KrakenCommand.self, KafkaCommand.self])
}

func split(_ list: String) -> [String] {
    list.split(separator: ",").map { String($0) }
}

/// Turns a library validation error into an argument error (exit 2 with usage).
func wrap<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch { throw ValidationError("\(error)") }
}

ProgramMain.run(K2Capture.self)
