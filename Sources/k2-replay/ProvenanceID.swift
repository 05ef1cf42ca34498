/// The `k2-replay-id` header on every replayed record: which log record (and which trade within it) it came
/// from, independent of the run. `{16 hex digits}:{sequence}:{trade index}`, where the hex digits are
/// FNV-1a-64 of `canonical log path NUL source NUL stream`. Resume reads it back from the partition tails.
struct ProvenanceID: Hashable {
    static let headerName = "k2-replay-id"

    var streamHash: UInt64
    var sequence: UInt64
    var tradeIndex: Int

    static func streamHash(logPath: String, source: String, stream: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in logPath.utf8 + [0] + source.utf8 + [0] + stream.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Appends the header value to `out` (cleared first), with no intermediate strings.
    func encode(into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var shift = 60
        while shift >= 0 {
            out.append(digits[Int((streamHash >> UInt64(shift)) & 0xF)])
            shift -= 4
        }
        out.append(UInt8(ascii: ":"))
        ProvenanceID.appendDecimal(sequence, to: &out)
        out.append(UInt8(ascii: ":"))
        ProvenanceID.appendDecimal(UInt64(tradeIndex), to: &out)
    }

    private static func appendDecimal(_ value: UInt64, to out: inout [UInt8]) {
        if value == 0 { out.append(0x30); return }
        let start = out.count
        var value = value
        while value > 0 {
            out.append(0x30 + UInt8(value % 10))
            value /= 10
        }
        out[start...].reverse()
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
