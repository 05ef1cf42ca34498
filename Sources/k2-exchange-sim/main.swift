// k2-exchange-sim: a local Binance/Kraken WebSocket exchange for tests and `make bench` (not shipped).
import ArgumentParser
import Exchanges
import ExchangeSimulator
import Foundation
import K2CLI

struct ExchangeSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k2-exchange-sim",
        abstract: "Serve a scripted Binance or Kraken WebSocket feed on 127.0.0.1.",
        discussion: """
        Speaks the source's subscribe protocol (Binance /stream?streams=... or /ws + SUBSCRIBE; Kraken v1
        subscribe event on /; Kraken v2 subscribe method on /v2) and plays one scenario across its connections.
        Prints `listening <url>` (and `certificate <path>` for --tls) on stdout, then `finished <frames>` when the
        script is done; exits on SIGINT/SIGTERM.

        Examples:
          k2-exchange-sim --feed binance --scenario standard --manifest /tmp/sent.jsonl
          k2-exchange-sim --feed kraken-v2 --tls --scenario continuous --count 5000 --interval 2ms
          k2-exchange-sim --feed binance --scenario throughput --count 2000000 --no-manifest-bytes
          k2-exchange-sim --feed kraken --fixture fixtures/kraken/v1-frames.jsonl
        """)

    @Option(help: "binance, kraken (v1) or kraken-v2.") var feed: String = "binance"
    @Option(help: "standard, stall, continuous or throughput.") var scenario: String = "standard"
    @Option(help: "Serve these JSONL frames (one frame per line) instead of a scenario.") var fixture: String?
    @Option(help: "Trade frames for continuous and throughput.") var count: Int = 1000
    @Option(help: "Pause between frames for continuous (e.g. 5ms).") var interval: String = "5ms"
    @Option(help: "Port on 127.0.0.1 (0: any free port).") var port: Int = 0
    @Flag(help: "Serve wss:// with a throw-away self-signed certificate.") var tls = false
    @Option(help: "Write every frame sent as a JSON line (connection, kind, stream, base64).") var manifest: String?

    func run() throws {
        let feeds: [String: ExchangeFeed] = ["binance": .binance, "kraken": .krakenV1, "kraken-v1": .krakenV1, "kraken-v2": .krakenV2]
        guard let feed = feeds[self.feed] else { throw ValidationError("unknown --feed \(self.feed); use binance, kraken or kraken-v2") }
        guard let intervalNanos = DurationParser.nanoseconds(interval) else { throw ValidationError("--interval \(interval) is not a duration") }
        let script: SimulatorScenario
        if let fixture {
            guard let data = FileManager.default.contents(atPath: fixture) else { throw ValidationError("cannot read --fixture \(fixture)") }
            let lines = data.split(separator: UInt8(ascii: "\n")).map { Array($0) }.filter { !$0.isEmpty }
            script = SimulatorScenario.fixture(feed: feed, lines: lines, intervalNanos: scenario == "continuous" ? intervalNanos : 0)
        } else {
            guard let standard = StandardScenario(rawValue: scenario) else { throw ValidationError("unknown --scenario \(scenario)") }
            script = standard.scenario(feed: feed, count: count, intervalNanos: intervalNanos)
        }
        var handle: FileHandle?
        if let manifest {
            FileManager.default.createFile(atPath: manifest, contents: nil)
            handle = FileHandle(forWritingAtPath: manifest)
            guard handle != nil else { throw ValidationError("cannot write --manifest \(manifest)") }
        }
        let simulator = ExchangeSimulator(scenario: script, tls: tls, manifest: SimulatorManifest(keepBytes: false, file: handle))
        try simulator.start(port: port)
        print("listening \(simulator.url)")
        if let certificate = simulator.certificatePath { print("certificate \(certificate)") }
        fflush(stdout)
        let done = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { done.signal() }
            source.resume()
            sources.append(source)
        }
        DispatchQueue.global().async {
            try? simulator.waitUntilFinished()
            print("finished \(simulator.manifest.textFramesSent)")
            fflush(stdout)
        }
        done.wait()
        simulator.stop()
        try? handle?.close()
    }
}

ExchangeSim.main()
