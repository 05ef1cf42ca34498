// k2-bench: the benchmarks behind `make bench` (not a product). One subcommand per part of the toolkit;
// scripts/bench.sh runs each beside its peer and writes docs/benchmarks.md.
import ArgumentParser

@main
struct K2Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k2-bench",
        abstract: "Benchmarks for k2-backfill (run through `make bench`).",
        subcommands: [SegmentBench.self, WriteLog.self, ReadLog.self, ProduceFile.self])
}
