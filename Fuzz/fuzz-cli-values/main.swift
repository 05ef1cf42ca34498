import FuzzSupport
import K2CLI

// Command-line values through the shared parsers every program uses: `DurationParser` (`--dedup-window`,
// `--duration`, ...), `TimeParser` (`--since`, `--until`, `--delete-before`: RFC 3339, dates, epoch numbers),
// and what prints a parsed time back (`TimeParser.rfc3339`), `ByteSize` (`--target-bytes`, `--segment-bytes`,
// ...) and `PartitionSelection` (`--partitions`). A nil or a thrown error is a correct answer for any text; a
// trap is not, and what a size or a selection prints must parse back to the same value.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: size > 0 ? data : nil, count: size), as: UTF8.self)
    if let nanos = DurationParser.nanoseconds(text) { precondition(nanos >= 0) }
    if let nanos = TimeParser.epochNanoseconds(text) {
        _ = TimeParser.rfc3339(epochNanoseconds: nanos)
        _ = TimeParser.rfc3339(epochSeconds: Int(nanos / 1_000_000_000))
    }
    if let bytes = ByteSize.parse(text) {
        precondition(bytes >= 1)
        precondition(ByteSize.parse(ByteSize(bytes: bytes).description) == bytes, "\(bytes) does not round-trip")
    }
    if let selection = try? PartitionSelection(parsing: text, option: "--partitions") {
        precondition(selection.partitions.allSatisfy { $0 >= 0 && $0 <= PartitionSelection.largestPartition })
        precondition((try? PartitionSelection(parsing: selection.description, option: "--partitions")) == selection,
                     "\(selection) does not round-trip")
    }
    return 0
}

func makeSeeds() throws -> [(name: String, bytes: [UInt8])] {
    let values = ["500ms", "90s", "15m", "2h", "7d", "1.5", "0", "1e300s", "250us", "10ns",
                  "2024-01-15T10:30:00Z", "2024-01-15T10:30:00.123456789+05:30", "2024-01-15", "1705314600",
                  "1705314600.5", "1705314600123", "1705314600123456789", "18446744073709551616", "-1", "now",
                  "256M", "256MB", "256MiB", "1.5G", "64k", "1048576", "9223372036854775807G", "1e300K", "8T",
                  "0,3,5-7", "0-999999", "7", "3-1", " 1 , 2 ", ""]
    return values.enumerated().map { ("value-\($0.offset)", Array($0.element.utf8)) }
}

FuzzMain.run(testOneInput, seeds: makeSeeds)
