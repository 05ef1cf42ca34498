/// One trade id found in a frame, with the key its ids are consecutive under.
public struct ScannedTradeId: Sendable, Equatable {
    /// Byte range (inside the scanned frame, without quotes) of the sequence key: the Binance stream name
    /// (`btcusdt@trade`), or the Kraken v2 `symbol`.
    public var key: Range<Int>
    public var id: Int64
}

/// Classifies a received frame and finds its stream name and trade ids in one validating pass, without
/// allocating per frame (one scanner per connection, reused). The JSON grammar is checked completely
/// (RFC 8259, including UTF-8 in strings), so a frame the scanner accepts is one any JSON parser accepts.
///
/// What is extracted, by feed:
/// - Binance: `stream` (top level); `data.e` == "trade" and `data.t` (integer) → a trade id keyed by the stream;
///   a top-level `result` with `id` → subscription reply.
/// - Kraken v1: a top-level array is data; its last string element at index ≥ 2 is the pair (the stream);
///   an object's `event` decides heartbeat / subscriptionStatus (reply) / other status; `pair` names its stream.
/// - Kraken v2: `channel` decides trade data / heartbeat / status; a top-level `method` is a reply;
///   `data[i].symbol` + `data[i].trade_id` → trade ids, the first symbol names the stream.
public final class FrameScanner {
    public let feed: ExchangeFeed
    /// Nesting deeper than this is reported as malformed (no exchange sends it; it bounds the recursion).
    public static let maximumDepth = 128

    // The stored properties below skip the runtime exclusivity check: the scanner is used by one thread at a
    // time and never hands out inout access to them, and the check on every byte's `pos`/`base` access was
    // a third of a frame's scanning cost (measured with perf in `make bench` capture).
    @exclusivity(unchecked) public private(set) var kind: FrameKind = .malformed
    /// Byte range of the stream name (without quotes), if the frame names one.
    @exclusivity(unchecked) public private(set) var stream: Range<Int>?
    /// Trade ids whose sequence must be consecutive per key, in frame order.
    @exclusivity(unchecked) public private(set) var tradeIds: [ScannedTradeId] = []

    @exclusivity(unchecked) private var base: UnsafePointer<UInt8> = UnsafePointer(bitPattern: 1)!
    @exclusivity(unchecked) private var end = 0
    @exclusivity(unchecked) private var pos = 0
    // Path of the value being parsed: for each level, the member key range (or nil inside arrays) and the index.
    @exclusivity(unchecked) private var keys: [Range<Int>?] = Array(repeating: nil, count: FrameScanner.maximumDepth + 1)
    @exclusivity(unchecked) private var indexes: [Int] = Array(repeating: 0, count: FrameScanner.maximumDepth + 1)
    @exclusivity(unchecked) private var depth = 0
    // Facts gathered during the walk, turned into the result at the end.
    @exclusivity(unchecked) private var topIsArray = false
    @exclusivity(unchecked) private var lastTopString: Range<Int>?
    @exclusivity(unchecked) private var eventValue: Range<Int>?
    @exclusivity(unchecked) private var channelValue: Range<Int>?
    @exclusivity(unchecked) private var hasMethod = false
    @exclusivity(unchecked) private var hasResult = false
    @exclusivity(unchecked) private var hasId = false
    @exclusivity(unchecked) private var pairValue: Range<Int>?
    @exclusivity(unchecked) private var binanceEventIsTrade = false
    @exclusivity(unchecked) private var binanceTradeId: Int64?
    @exclusivity(unchecked) private var elementSymbol: Range<Int>?
    @exclusivity(unchecked) private var elementTradeId: Int64?
    @exclusivity(unchecked) private var firstSymbol: Range<Int>?
    // The number last parsed, when it is an integer that fits Int64.
    @exclusivity(unchecked) private var lastInteger: Int64?

    public init(feed: ExchangeFeed) {
        self.feed = feed
        tradeIds.reserveCapacity(64)
    }

    /// Scans one frame; the results are valid until the next call.
    public func scan(_ bytes: UnsafeRawBufferPointer) {
        reset()
        guard let start = bytes.baseAddress, bytes.count > 0 else { kind = .malformed; return }
        base = start.assumingMemoryBound(to: UInt8.self)
        end = bytes.count
        pos = 0
        skipWhitespace()
        var valid = parseValue()
        skipWhitespace()
        if pos != end { valid = false }
        guard valid else {
            kind = .malformed
            stream = nil
            tradeIds.removeAll(keepingCapacity: true)
            return
        }
        finish()
    }

    public func scan(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { scan($0) }
    }

    // MARK: - Result

    private func reset() {
        kind = .data
        stream = nil
        tradeIds.removeAll(keepingCapacity: true)
        depth = 0
        topIsArray = false
        lastTopString = nil
        eventValue = nil
        channelValue = nil
        hasMethod = false
        hasResult = false
        hasId = false
        pairValue = nil
        binanceEventIsTrade = false
        binanceTradeId = nil
        elementSymbol = nil
        elementTradeId = nil
        firstSymbol = nil
    }

    private func finish() {
        switch feed {
        case .binance:
            if hasResult && hasId && stream == nil {
                kind = .subscriptionReply
            } else if let stream, binanceEventIsTrade, let id = binanceTradeId {
                tradeIds.append(ScannedTradeId(key: stream, id: id))
            }
        case .krakenV1:
            if topIsArray {
                kind = .data
                stream = lastTopString
            } else if let event = eventValue {
                if equals(event, "heartbeat") { kind = .heartbeat }
                else if equals(event, "subscriptionStatus") { kind = .subscriptionReply }
                else { kind = .status }
                stream = pairValue
            } else {
                kind = .data
            }
        case .krakenV2:
            if hasMethod {
                kind = .subscriptionReply
                tradeIds.removeAll(keepingCapacity: true)
            } else if let channel = channelValue {
                if equals(channel, "heartbeat") { kind = .heartbeat }
                else if equals(channel, "status") { kind = .status }
                else { kind = .data }
                if !equals(channel, "trade") { tradeIds.removeAll(keepingCapacity: true) }
            }
            if kind == .data { stream = firstSymbol }
        }
    }

    // MARK: - What the walk reports

    private func isKey(_ level: Int, _ name: StaticString) -> Bool {
        guard let key = keys[level] else { return false }
        return equals(key, name)
    }

    private func equals(_ range: Range<Int>, _ name: StaticString) -> Bool {
        guard range.count == name.utf8CodeUnitCount else { return false }
        let other = name.utf8Start
        for i in 0..<range.count where base[range.lowerBound + i] != other[i] { return false }
        return true
    }

    /// A string value at the current path (depth = level of the value).
    private func foundString(_ range: Range<Int>) {
        switch feed {
        case .binance:
            if depth == 1 && isKey(1, "stream") { stream = range }
            else if depth == 2 && isKey(1, "data") && isKey(2, "e") { binanceEventIsTrade = equals(range, "trade") }
        case .krakenV1:
            if depth == 1 {
                if topIsArray { if indexes[1] >= 2 { lastTopString = range } }
                else if isKey(1, "event") { eventValue = range }
                else if isKey(1, "pair") { pairValue = range }
            }
        case .krakenV2:
            if depth == 1 && isKey(1, "channel") { channelValue = range }
            else if depth == 3 && isKey(1, "data") && keys[2] == nil && isKey(3, "symbol") {
                elementSymbol = range
                if firstSymbol == nil { firstSymbol = range }
            }
        }
    }

    /// An integer value (fits Int64) at the current path.
    private func foundInteger(_ value: Int64) {
        switch feed {
        case .binance:
            if depth == 2 && isKey(1, "data") && isKey(2, "t") { binanceTradeId = value }
        case .krakenV1:
            break
        case .krakenV2:
            if depth == 3 && isKey(1, "data") && keys[2] == nil && isKey(3, "trade_id") { elementTradeId = value }
        }
    }

    /// Any member key at level 1 (for presence checks).
    private func foundTopKey(_ key: Range<Int>) {
        if equals(key, "method") { hasMethod = true }
        else if equals(key, "result") { hasResult = true }
        else if equals(key, "id") { hasId = true }
    }

    /// An object that is an element of `data` (Kraken v2) ended: one trade, if it named symbol and trade_id.
    private func endedObject(level: Int) {
        guard feed == .krakenV2, level == 2, isKey(1, "data"), keys[2] == nil else { return }
        if let symbol = elementSymbol, let id = elementTradeId {
            tradeIds.append(ScannedTradeId(key: symbol, id: id))
        }
        elementSymbol = nil
        elementTradeId = nil
    }

    // MARK: - RFC 8259 grammar

    @inline(__always) private func skipWhitespace() {
        while pos < end {
            let c = base[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { return }
        }
    }

    /// Parses the value at `pos`; `depth` is the level of that value (0 = the whole frame).
    private func parseValue() -> Bool {
        guard pos < end else { return false }
        switch base[pos] {
        case UInt8(ascii: "{"): return parseObject()
        case UInt8(ascii: "["): return parseArray()
        case UInt8(ascii: "\""):
            guard let range = parseString() else { return false }
            foundString(range)
            return true
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default:
            guard parseNumber() else { return false }
            if let value = lastInteger { foundInteger(value) }
            return true
        }
    }

    private func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard end - pos >= count else { return false }
        let bytes = word.utf8Start
        for i in 0..<count where base[pos + i] != bytes[i] { return false }
        pos += count
        return true
    }

    private func parseObject() -> Bool {
        guard depth < FrameScanner.maximumDepth else { return false }
        pos += 1  // {
        let level = depth + 1
        skipWhitespace()
        if pos < end && base[pos] == UInt8(ascii: "}") { pos += 1; return true }
        var index = 0
        while true {
            guard pos < end, base[pos] == UInt8(ascii: "\""), let key = parseString() else { return false }
            skipWhitespace()
            guard pos < end, base[pos] == UInt8(ascii: ":") else { return false }
            pos += 1
            skipWhitespace()
            keys[level] = key
            indexes[level] = index
            if level == 1 { foundTopKey(key) }
            depth = level
            guard parseValue() else { return false }
            depth = level - 1
            index += 1
            skipWhitespace()
            guard pos < end else { return false }
            if base[pos] == UInt8(ascii: ",") { pos += 1; skipWhitespace(); continue }
            if base[pos] == UInt8(ascii: "}") {
                pos += 1
                endedObject(level: level - 1)
                return true
            }
            return false
        }
    }

    private func parseArray() -> Bool {
        guard depth < FrameScanner.maximumDepth else { return false }
        if depth == 0 { topIsArray = true }
        pos += 1  // [
        let level = depth + 1
        skipWhitespace()
        if pos < end && base[pos] == UInt8(ascii: "]") { pos += 1; return true }
        var index = 0
        while true {
            keys[level] = nil
            indexes[level] = index
            depth = level
            guard parseValue() else { return false }
            depth = level - 1
            index += 1
            skipWhitespace()
            guard pos < end else { return false }
            if base[pos] == UInt8(ascii: ",") { pos += 1; skipWhitespace(); continue }
            if base[pos] == UInt8(ascii: "]") { pos += 1; return true }
            return false
        }
    }

    /// Parses a string at `pos` (the opening quote); returns the range of its content without quotes.
    private func parseString() -> Range<Int>? {
        pos += 1
        let start = pos
        while pos < end {
            let c = base[pos]
            if c == UInt8(ascii: "\"") {
                let range = start..<pos
                pos += 1
                return range
            } else if c == UInt8(ascii: "\\") {
                pos += 1
                guard pos < end else { return nil }
                switch base[pos] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                     UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    pos += 1
                case UInt8(ascii: "u"):
                    guard end - pos > 4 else { return nil }
                    for i in 1...4 where !isHexDigit(base[pos + i]) { return nil }
                    pos += 5
                default:
                    return nil
                }
            } else if c < 0x20 {
                return nil
            } else if c < 0x80 {
                pos += 1
            } else {
                guard skipUTF8Sequence() else { return nil }
            }
        }
        return nil
    }

    @inline(__always) private func isHexDigit(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }

    /// Validates one multi-byte UTF-8 sequence at `pos` (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
    private func skipUTF8Sequence() -> Bool {
        let c = base[pos]
        let count: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: count = 1
        case 0xE0: count = 2; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 2
        case 0xED: count = 2; high = 0x9F
        case 0xF0: count = 3; low = 0x90
        case 0xF1...0xF3: count = 3
        case 0xF4: count = 3; high = 0x8F
        default: return false
        }
        guard end - pos > count else { return false }
        let second = base[pos + 1]
        guard second >= low && second <= high else { return false }
        for i in 2...max(2, count) where i <= count {
            let b = base[pos + i]
            guard b >= 0x80 && b <= 0xBF else { return false }
        }
        pos += count + 1
        return true
    }

    /// Parses `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; sets `lastInteger` when it is an Int64 integer.
    private func parseNumber() -> Bool {
        lastInteger = nil
        var negative = false
        if base[pos] == UInt8(ascii: "-") { negative = true; pos += 1 }
        guard pos < end else { return false }
        var value: Int64 = 0
        var overflow = false
        let c0 = base[pos]
        if c0 == UInt8(ascii: "0") {
            pos += 1
        } else if c0 >= UInt8(ascii: "1") && c0 <= UInt8(ascii: "9") {
            while pos < end, base[pos] >= 0x30, base[pos] <= 0x39 {
                let digit = Int64(base[pos] - 0x30)
                let (times10, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(digit)
                if o1 || o2 { overflow = true } else { value = sum }
                pos += 1
            }
        } else {
            return false
        }
        var integral = true
        if pos < end && base[pos] == UInt8(ascii: ".") {
            integral = false
            pos += 1
            let digitsStart = pos
            while pos < end, base[pos] >= 0x30, base[pos] <= 0x39 { pos += 1 }
            guard pos > digitsStart else { return false }
        }
        if pos < end && (base[pos] == UInt8(ascii: "e") || base[pos] == UInt8(ascii: "E")) {
            integral = false
            pos += 1
            if pos < end && (base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-")) { pos += 1 }
            let digitsStart = pos
            while pos < end, base[pos] >= 0x30, base[pos] <= 0x39 { pos += 1 }
            guard pos > digitsStart else { return false }
        }
        if integral && !overflow { lastInteger = negative ? -value : value }
        return true
    }
}
