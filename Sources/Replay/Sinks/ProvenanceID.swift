import K2Core
/// The `k2-replay-id` header on every replayed record: which log record (and which trade within it) it came
/// from, independent of the run. `{16 hex digits}:{sequence}:{trade index}`, where the hex digits are
/// FNV-1a-64 of `canonical log path NUL source NUL stream`. Resume reads it back from the partition tails.
struct ProvenanceID: Hashable {
    static let headerName = headerNameC.description

    var streamHash: UInt64
    var sequence: UInt64
    var tradeIndex: Int

    static func streamHash(logPath: String, source: String, stream: String) -> UInt64 {
        var hasher = FNV1a()
        hasher.combineField(logPath)
        hasher.combineField(source)
        hasher.combine(stream.utf8)
        return hasher.value
    }

    /// The header name as a NUL-terminated C string, for the producer's hot path.
    static let headerNameC: StaticString = "k2-replay-id"
    /// The longest header value: 16 hex digits, two colons, two 20-digit decimals.
    static let maxEncodedCount = 16 + 1 + 20 + 1 + 20

    /// Appends the header value to `out` (cleared first).
    func encode(into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        out.append(contentsOf: repeatElement(0, count: ProvenanceID.maxEncodedCount))
        let count = out.withUnsafeMutableBufferPointer { encode(to: $0.baseAddress!) }
        out.removeLast(out.count - count)
    }

    /// Writes the header value at `out`, which has room for `maxEncodedCount` bytes, and returns its length.
    /// No allocation: the replay writes one per message.
    func encode(to out: UnsafeMutablePointer<UInt8>) -> Int {
        var count = 0
        var shift = 60
        while shift >= 0 {
            let nibble = UInt8(truncatingIfNeeded: streamHash >> UInt64(shift)) & 0xF
            out[count] = nibble < 10 ? 0x30 + nibble : 0x57 + nibble   // 0x57 + 10 = "a"
            count += 1
            shift -= 4
        }
        out[count] = UInt8(ascii: ":")
        count += 1
        count += ProvenanceID.writeDecimal(sequence, to: out + count)
        out[count] = UInt8(ascii: ":")
        count += 1
        count += ProvenanceID.writeDecimal(UInt64(tradeIndex), to: out + count)
        return count
    }

    private static func writeDecimal(_ value: UInt64, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        rest = value
        var index = digits
        repeat {
            index -= 1
            out[index] = 0x30 + UInt8(rest % 10)
            rest /= 10
        } while index > 0
        return digits
    }

    init(streamHash: UInt64, sequence: UInt64, tradeIndex: Int) {
        self.streamHash = streamHash
        self.sequence = sequence
        self.tradeIndex = tradeIndex
    }

    init?(header: [UInt8]) {
        let parts = header.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 16,
              let hash = UInt64(String(decoding: parts[0], as: UTF8.self), radix: 16),
              let sequence = UInt64(String(decoding: parts[1], as: UTF8.self)),
              let index = Int(String(decoding: parts[2], as: UTF8.self)) else { return nil }
        self.init(streamHash: hash, sequence: sequence, tradeIndex: index)
    }
}
