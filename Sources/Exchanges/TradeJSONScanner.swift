/// A malformed exchange frame: what was expected and the byte offset in the frame where it went wrong.
public struct ExchangeFrameError: Error, CustomStringConvertible, Sendable {
    public let offset: Int
    public let message: String
    public var description: String { "\(message) at byte \(offset)" }
}

/// A JSON string's contents within a frame. `plain`: ASCII without escapes, so the bytes are the text
/// exactly and can be copied as they are (every symbol, price and tag an exchange sends).
public struct JSONStringSpan: Sendable, Equatable {
    public var range: Range<Int>
    public var escaped: Bool
    public var ascii: Bool
    public var plain: Bool { !escaped && ascii }

    public init(range: Range<Int>, escaped: Bool, ascii: Bool) {
        self.range = range
        self.escaped = escaped
        self.ascii = ascii
    }

    /// An empty plain string (a placeholder before a field is read).
    public static let empty = JSONStringSpan(range: 0..<0, escaped: false, ascii: true)
}

/// A forward-only JSON scanner over a frame's bytes, for the few trade shapes we parse: it decodes only
/// the values asked for and skips the rest without building a document (replay parses every frame).
struct TradeJSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    func error(_ message: String) -> ExchangeFrameError { ExchangeFrameError(offset: position, message: message) }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// The next non-blank byte, not consumed.
    @inline(__always)
    mutating func peek() -> UInt8? {
        skipWhitespace()
        return position < bytes.count ? bytes[position] : nil
    }

    @inline(__always)
    mutating func expect(_ byte: UInt8) throws {
        guard peek() == byte else { throw error("expected '\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    /// Consumes `byte` if it is next.
    @inline(__always)
    mutating func consume(_ byte: UInt8) -> Bool {
        guard peek() == byte else { return false }
        position += 1
        return true
    }

    /// After an element of an object or array: true if another follows (a comma was consumed), false at the
    /// closing bracket (consumed).
    @inline(__always)
    mutating func nextElement(closing: UInt8) throws -> Bool {
        if consume(0x2C) { return true }
        if consume(closing) { return false }
        throw error("expected ',' or '\(Character(Unicode.Scalar(closing)))'")
    }

    /// The raw byte range of a string's contents (between the quotes) and whether it holds escapes.
    @inline(__always)
    mutating func readStringRange() throws -> (range: Range<Int>, escaped: Bool) {
        try expect(0x22)
        let start = position
        var escaped = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x22 {
                position += 1
                return (start..<position - 1, escaped)
            }
            if byte == 0x5C { escaped = true; position += 2; continue }
            if byte < 0x20 { throw error("control character in string") }
            position += 1
        }
        throw error("unterminated string")
    }

    /// A string's contents as a `JSONStringSpan`, checked as `readString` checks it (escapes, UTF-8; the
    /// same errors at the same offsets) but only decoded when it is not plain.
    @inline(__always)
    mutating func readStringSpan() throws -> JSONStringSpan {
        try expect(0x22)
        let start = position
        var high: UInt8 = 0
        var escaped = false
        while position < bytes.count {
            let byte = bytes[position]
            if byte == 0x22 {
                position += 1
                let span = JSONStringSpan(range: start..<position - 1, escaped: escaped, ascii: high < 0x80)
                if !span.plain { _ = try decodeString(span.range, escaped: escaped) }
                return span
            }
            if byte == 0x5C { escaped = true; position += 2; continue }
            if byte < 0x20 { throw error("control character in string") }
            high |= byte
            position += 1
        }
        throw error("unterminated string")
    }

    /// The text of a span read by `readStringSpan`.
    func string(_ span: JSONStringSpan) throws -> String {
        if span.plain { return String(decoding: UnsafeBufferPointer(rebasing: bytes[span.range]), as: UTF8.self) }
        return try decodeString(span.range, escaped: span.escaped)
    }

    mutating func readString() throws -> String {
        let (range, escaped) = try readStringRange()
        return try decodeString(range, escaped: escaped)
    }

    private func decodeString(_ range: Range<Int>, escaped: Bool) throws -> String {
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        guard escaped else {
            // ASCII (every price, symbol and tag) decodes exactly without the generic validating path.
            var ascii = true
            for byte in raw where byte >= 0x80 { ascii = false; break }
            if ascii { return String(decoding: raw, as: UTF8.self) }
            guard let text = String(validating: raw, as: UTF8.self) else { throw error("string is not UTF-8") }
            return text
        }
        return try unescape(raw, at: range.lowerBound)
    }

    /// Compares a string's contents with `literal` without decoding (keys and tags have no escapes).
    mutating func readStringEquals(_ literal: StaticString) throws -> Bool {
        let (range, _) = try readStringRange()
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let expected = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        for index in 0..<range.count where bytes[range.lowerBound + index] != expected[index] { return false }
        return true
    }

    /// A number's exact text range (validated against the JSON grammar's characters, not converted).
    @inline(__always)
    mutating func readNumberRange() throws -> Range<Int> {
        skipWhitespace()
        let start = position
        while position < bytes.count {
            switch bytes[position] {
            case 0x30...0x39, 0x2D, 0x2B, 0x2E, 0x65, 0x45: position += 1
            default:
                guard position > start else { throw error("expected a number") }
                return start..<position
            }
        }
        guard position > start else { throw error("expected a number") }
        return start..<position
    }

    /// An integer, in one pass over its digits. The same result and errors as checking `readNumberRange`'s
    /// text digit by digit: a sign or digit sequence that is not a plain integer ("1.5", "2e3", "-") is
    /// "expected an integer", a value beyond Int64 "integer overflows 64 bits", both at the number's start.
    @inline(__always)
    mutating func readInt64() throws -> Int64 {
        skipWhitespace()
        let start = position
        var index = start
        let count = bytes.count
        var negative = false
        if index < count, bytes[index] == 0x2D { negative = true; index += 1 }
        var value: Int64 = 0
        var digits = 0
        var overflow = false
        while index < count {
            let digit = bytes[index] &- 0x30
            guard digit < 10 else { break }
            if !overflow {
                let (times, o1) = value.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times.addingReportingOverflow(Int64(digit))
                if o1 || o2 { overflow = true } else { value = sum }
            }
            digits += 1
            index += 1
        }
        if index < count, Self.isNumberByte(bytes[index]) {
            // More number text follows ("1.5", "2e3", "1-2"): not an integer. An overflow in the digits before
            // it was found first, as a digit-by-digit check finds it.
            position = index
            _ = try readNumberRange()   // the whole number, as readNumberRange would take it
            if overflow { throw ExchangeFrameError(offset: start, message: "integer overflows 64 bits") }
            throw ExchangeFrameError(offset: start, message: "expected an integer")
        }
        guard index > start else { throw error("expected a number") }
        position = index
        guard digits > 0 else { throw ExchangeFrameError(offset: start, message: "expected an integer") }
        if overflow { throw ExchangeFrameError(offset: start, message: "integer overflows 64 bits") }
        return negative ? -value : value
    }

    @inline(__always)
    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x2D, 0x2B, 0x2E, 0x65, 0x45: return true
        default: return false
        }
    }

    @inline(__always)
    mutating func readBool() throws -> Bool {
        skipWhitespace()
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw error("expected true or false")
    }

    /// Consumes `null` if it is next.
    @inline(__always)
    mutating func consumeNull() -> Bool {
        skipWhitespace()
        return matchLiteral("null")
    }

    @inline(__always)
    private mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { return false }
        for index in 0..<count where bytes[position + index] != literal.utf8Start[index] { return false }
        position += count
        return true
    }

    /// How deeply skipped values may nest: exchange frames nest three or four levels; a frame nested
    /// thousands deep is hostile, and following it would overflow the stack.
    static let maxNestingDepth = 64

    /// Skips any value, nested or not (at most `maxNestingDepth` deep), returning its byte range.
    @discardableResult
    mutating func skipValue(depth: Int = 0) throws -> Range<Int> {
        guard let byte = peek() else { throw error("expected a value") }
        guard depth < Self.maxNestingDepth else {
            throw error("values nested more than \(Self.maxNestingDepth) deep")
        }
        let start = position
        switch byte {
        case 0x22: _ = try readStringRange()
        case 0x7B, 0x5B:
            let closing: UInt8 = byte == 0x7B ? 0x7D : 0x5D
            position += 1
            if consume(closing) { return start..<position }
            repeat {
                if byte == 0x7B {
                    _ = try readStringRange()
                    try expect(0x3A)
                }
                try skipValue(depth: depth + 1)
            } while try nextElement(closing: closing)
        case 0x74, 0x66: _ = try readBool()
        case 0x6E: guard consumeNull() else { throw error("expected null") }
        default: _ = try readNumberRange()
        }
        return start..<position
    }

    private func unescape(_ raw: UnsafeBufferPointer<UInt8>, at base: Int) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = 0
        func hex4(_ at: Int) throws -> UInt32 {
            guard at + 4 <= raw.count else { throw ExchangeFrameError(offset: base + at, message: "short \\u escape") }
            var value: UInt32 = 0
            for offset in 0..<4 {
                let c = raw[at + offset]
                let digit: UInt32
                switch c {
                case 0x30...0x39: digit = UInt32(c - 0x30)
                case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
                default: throw ExchangeFrameError(offset: base + at, message: "bad \\u escape")
                }
                value = value << 4 | digit
            }
            return value
        }
        while index < raw.count {
            let byte = raw[index]
            guard byte == 0x5C else { out.append(byte); index += 1; continue }
            guard index + 1 < raw.count else { throw ExchangeFrameError(offset: base + index, message: "bad escape") }
            let code = raw[index + 1]
            index += 2
            switch code {
            case 0x22, 0x5C, 0x2F: out.append(code)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                var scalar = try hex4(index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar), index + 6 <= raw.count, raw[index] == 0x5C, raw[index + 1] == 0x75 {
                    let low = try hex4(index + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                guard let unicode = Unicode.Scalar(scalar) else {
                    throw ExchangeFrameError(offset: base + index, message: "invalid \\u escape")
                }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default: throw ExchangeFrameError(offset: base + index - 2, message: "bad escape")
            }
        }
        guard let text = String(validating: out, as: UTF8.self) else {
            throw ExchangeFrameError(offset: base, message: "string is not UTF-8")
        }
        return text
    }
}
