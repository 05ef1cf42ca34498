import ArgumentParser

/// A size as typed on any program's command line: a number of bytes with an optional unit K, M, G or T, in
/// any case, with or without `B` or `iB` (`256M` = `256m` = `256MB` = `256MiB` = 268435456). Every unit is a
/// power of 1024: the sizes given are of segment files, blocks and frames, which disks and memory count in
/// binary units, and one meaning for `MB` avoids a 5% surprise between programs. A fraction needs a unit
/// (`1.5G`); the result is rounded down to whole bytes and must be at least 1.
public struct ByteSize: ExpressibleByArgument, Sendable, Hashable, CustomStringConvertible {
    public let bytes: Int64

    public init(bytes: Int64) {
        self.bytes = bytes
    }

    public init?(argument: String) {
        guard let bytes = Self.parse(argument) else { return nil }
        self.bytes = bytes
    }

    /// Parses `text`, throwing an error that names `option` and the text.
    public init(parsing text: String, option: String) throws {
        guard let bytes = Self.parse(text) else {
            throw UsageError("\(option) \(text) is not a size (\(Self.examples))")
        }
        self.bytes = bytes
    }

    /// Examples of the accepted spellings, for help and error texts.
    public static let examples = "1048576, 64K, 256MB, 256MiB, 1.5G; K, M, G, T are powers of 1024"

    /// The size in bytes, or nil when `text` is not a size, is below 1 byte or exceeds 64 bits.
    public static func parse(_ text: String) -> Int64? {
        var number = Substring(text.trimmingCharacters(in: .whitespaces).uppercased())
        if number.hasSuffix("IB") { number.removeLast(2) } else if number.hasSuffix("B") { number.removeLast() }
        let units: [Character: Double] = ["K": 0x1p10, "M": 0x1p20, "G": 0x1p30, "T": 0x1p40]
        guard let last = number.last else { return nil }
        if let scale = units[last] {
            number.removeLast()
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                  let value = Double(number) else { return nil }
            let bytes = (value * scale).rounded(.down)
            guard bytes >= 1, bytes < 0x1p63 else { return nil }
            return Int64(bytes)
        }
        guard number.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int64(number), value >= 1 else { return nil }
        return value
    }

    /// The shortest exact spelling, in the largest binary unit that divides the size (`256MiB`, `1000`).
    public var description: String {
        for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] where bytes % (Int64(1) << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }
}

import Foundation
