import FuzzSupport
import K2CLI

// Command-line values through the shared parsers every program uses: `DurationParser` (`--dedup-window`,
// `--duration`, ...) and `TimeParser` (`--since`, `--until`, `--delete-before`: RFC 3339, dates, epoch numbers),
// and what prints a parsed time back (`TimeParser.rfc3339`). A nil is a correct answer for any text; a trap is not.

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: size > 0 ? data : nil, count: size), as: UTF8.self)
    if let nanos = DurationParser.nanoseconds(text) { precondition(nanos >= 0) }
    if let nanos = TimeParser.epochNanoseconds(text) {
        _ = TimeParser.rfc3339(epochNanoseconds: nanos)
        _ = TimeParser.rfc3339(epochSeconds: Int(nanos / 1_000_000_000))
    }
    return 0
}

func makeSeeds() throws -> [(name: String, bytes: [UInt8])] {
    let values = ["500ms", "90s", "15m", "2h", "7d", "1.5", "0", "1e300s", "250us", "10ns",
                  "2024-01-15T10:30:00Z", "2024-01-15T10:30:00.123456789+05:30", "2024-01-15", "1705314600",
                  "1705314600.5", "1705314600123", "1705314600123456789", "18446744073709551616", "-1", "now"]
    return values.enumerated().map { ("value-\($0.offset)", Array($0.element.utf8)) }
}

FuzzMain.run(testOneInput, seeds: makeSeeds)
