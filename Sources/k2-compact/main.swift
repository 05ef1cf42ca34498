// k2-compact: merges, recompresses, de-duplicates, expires and checks segment logs, crash-safely.
import ArgumentParser
import Codecs
import Foundation
import K2CLI
import SegmentLog

struct Compact: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "k2-compact",
        abstract: "Merge, recompress, de-duplicate, expire and check a segment log, crash-safely.",
        discussion: """
        A capture writes many small segments, often lz4 for speed. k2-compact rewrites the small sealed segments \
        of a log into segments of --target-bytes, recompressed with --codec, dropping exact duplicate records where \
        two captures of a stream overlapped (a reconnect that overlapped, two redundant capture processes): by \
        exchange trade id where the frame has one (Binance "t", Kraken v2 "trade_id"), by (partition, offset) for \
        Kafka-sourced records, else by identical bytes within --dedup-window. Segments whose newest record is \
        older than --delete-before are deleted.

        It is crash-safe: new segments are written under temporary names and published by one atomic rename of a \
        compaction intent; killed at any point, the log holds the old segments or the new ones, never both and \
        never neither, and a rerun finishes the job. It needs the log to itself: it refuses to run while a capture \
        is writing the same directory. Unsealed segments (a live or crashed writer's) are left alone. Sequence \
        numbers are kept, and each stream's highest sequence is recorded in sequences.high-water, so a capture \
        reopening the log never reuses the numbers of records removed here (replay checkpoints stay valid). See \
        docs/segment-format.md.

        Sizes (--target-bytes, --block-bytes) are bytes or a number with K, M, G or T, with or without B or iB, \
        in any case; all are powers of 1024 (256M = 256MB = 256MiB = 268435456 bytes).

        Exit codes: 0 done (or check clean), 1 corrupt data found, 2 could not run (bad arguments, log in use, \
        unreadable directory).

        Examples:
          k2-compact var/capture --check
          k2-compact var/capture --target-bytes 256MB --codec zstd-9
          k2-compact var/capture --delete-before 2024-02-01 --dry-run --json
          k2-compact var/capture --all --dedup-window 10m
        """,
        version: ToolkitVersion.current)

    /// The version of the `--json` reports' keys (2: snake_case keys, duplicates_by_rule with fixed keys).
    static let reportFormat = 2

    @Argument(help: "The segment log directory.")
    var log: String

    @Flag(help: "Verify every segment (header, index, block CRCs, decoding) and report counts; change nothing.")
    var check = false

    @Option(help: ArgumentHelp("Target output segment size (256MB, 64MiB, 1G). Sealed segments smaller than it are merged.", valueName: "size"))
    var targetBytes = ByteSize(bytes: 256 << 20)

    @Option(help: "Output codec: zstd-N (zstd-3, zstd-9, ...), lz4 or none. When given, segments in another codec are rewritten too.")
    var codec: String?

    @Option(help: ArgumentHelp("Output block size, uncompressed (256KB, 1M).", valueName: "size"))
    var blockBytes = ByteSize(bytes: 256 << 10)

    @Option(help: ArgumentHelp("How far back (receive time) to look for duplicates: 500ms, 90s, 5m, 1h.", valueName: "duration"))
    var dedupWindow: String = "5m"

    @Flag(help: "Keep duplicates (no de-duplication).")
    var noDedup = false

    @Option(help: ArgumentHelp("Delete sealed segments whose newest record is older than this time (RFC 3339, a date, or epoch seconds/ms).", valueName: "time"))
    var deleteBefore: String?

    @Flag(help: "Rewrite every sealed segment, not only the small ones (to de-duplicate or recompress big ones).")
    var all = false

    @Flag(help: "Plan and count (duplicates included) but change nothing.")
    var dryRun = false

    @Flag(help: "Print the report as one JSON object on stdout (keys: docs/segment-format.md, \"k2-compact --json reports\").")
    var json = false

    @Flag(help: "No progress lines on stderr (records read while rewriting, bytes checked with --check: rate, ETA, about once a second).")
    var quiet = false

    func validate() throws {
        if let codec, CompressionCodec(name: codec) == nil { throw ValidationError("unknown codec '\(codec)' (zstd-N, lz4, none)") }
        if DurationParser.nanoseconds(dedupWindow) == nil { throw ValidationError("--dedup-window: not a duration: '\(dedupWindow)'") }
        if let deleteBefore, TimeParser.epochNanoseconds(deleteBefore) == nil { throw ValidationError("--delete-before: not a time: '\(deleteBefore)'") }
    }

    func run() throws {
        let diagnostics: (String) -> Void = { StandardError.print("k2-compact: \($0)") }
        do {
            if check {
                let progress = ProgressLines(program: "k2-compact", unit: "bytes", quiet: quiet)
                let report = try SegmentLogChecker.check(directory: log, diagnostics: diagnostics,
                                                         progress: { progress.update(done: $0, total: $1) })
                if json {
                    try JSONReport.write(CheckOutput(report: report), program: "k2-compact", format: Self.reportFormat)
                } else {
                    print("\(log): \(report.segments) segments (\(report.sealedSegments) sealed, \(report.unsealedSegments) unsealed), \(report.blocks) blocks, \(report.records) records, \(report.bytes) bytes")
                    for s in report.streams { print("  \(s.source)/\(s.stream): \(s.records) records, sequences \(s.firstSequence)...\(s.lastSequence)") }
                    if report.tornTails > 0 { print("  \(report.tornTails) torn tails (unsealed segments end there; a writer reopening the log truncates them)") }
                    for p in report.problems { print("  PROBLEM: \(p)") }
                    print(report.ok ? "check: OK" : "check: \(report.problems.count) problems, \(report.corruptBlocks) corrupt blocks")
                }
                if !report.ok { throw ExitCode(K2ExitCode.failure.rawValue) }
                return
            }
            var options = CompactionOptions()
            options.targetSegmentBytes = targetBytes.bytes
            options.blockBytes = Int(blockBytes.bytes)
            options.codec = codec.flatMap { CompressionCodec(name: $0) }
            options.dedupWindowNanos = noDedup ? nil : DurationParser.nanoseconds(dedupWindow)
            options.deleteBeforeNanos = deleteBefore.flatMap { TimeParser.epochNanoseconds($0) }
            options.rewriteAll = all
            options.dryRun = dryRun
            let progress = ProgressLines(program: "k2-compact", unit: "records", quiet: quiet)
            let report = try SegmentLogCompactor.compact(directory: log, options: options, diagnostics: diagnostics,
                                                         progress: { progress.update(done: Int64($0), total: Int64($1)) })
            if json {
                try JSONReport.write(report, program: "k2-compact", format: Self.reportFormat)
            } else {
                let verb = dryRun ? "would rewrite" : "rewrote"
                print("\(log): \(verb) \(report.inputSegments.count) segments into \(dryRun ? "new" : String(report.outputSegments.count)) segments, expired \(report.expiredSegments.count) (\(report.recordsExpired) records)")
                print("  records read \(report.recordsRead), written \(report.recordsWritten), duplicates removed \(report.duplicatesRemoved) \(report.duplicatesByRule.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
                print("  bytes before \(report.bytesBefore), after \(dryRun ? "-" : String(report.bytesAfter)); \(report.untouchedSegments.count) segments left as they were, \(report.unsealedSegments.count) unsealed")
            }
        } catch let error as SegmentLogError {
            throw ProgramFailure("\(error)", code: error.kind == .corrupt ? .failure : .unusable)
        }
    }
}

ProgramMain.run(Compact.self)
