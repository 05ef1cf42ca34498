/// Interns stream names found as byte ranges of a frame, so a frame's stream costs a comparison, not a String.
/// Exchanges name a few dozen streams per connection, so a linear scan by length then bytes is enough.
struct StreamTable {
    private(set) var names: [String] = []
    private var bytes: [[UInt8]] = []

    mutating func index(of name: String) -> Int {
        let utf8 = Array(name.utf8)
        if let found = bytes.firstIndex(of: utf8) { return found }
        names.append(name)
        bytes.append(utf8)
        return names.count - 1
    }

    mutating func index(of range: Range<Int>, in frame: UnsafeRawBufferPointer) -> Int {
        let count = range.count
        for (i, candidate) in bytes.enumerated() where candidate.count == count {
            let same = candidate.withUnsafeBytes { stored in
                memcmp(stored.baseAddress!, frame.baseAddress! + range.lowerBound, count) == 0
            }
            if same { return i }
        }
        let slice = UnsafeRawBufferPointer(rebasing: frame[range])
        names.append(String(decoding: slice, as: UTF8.self))
        bytes.append(Array(slice))
        return names.count - 1
    }

    var count: Int { names.count }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
