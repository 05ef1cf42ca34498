#if canImport(Glibc)
import Glibc
#endif

/// The `String` of a record key seen in a frame, made once per distinct key: a replay sees the same few
/// symbols millions of times, and building a String from bytes (with UTF-8 validation) for each record
/// costs more than finding it among the few already made.
struct KeyStrings {
    private var bytes: [UInt8] = []
    private var ends: [Int] = []
    private var strings: [String] = []
    /// Past this many distinct keys, new ones are not remembered (each is then built per use).
    private let limit = 256

    mutating func key(_ value: UnsafeRawBufferPointer) -> String {
        var start = 0
        let found: Int? = bytes.withUnsafeBytes { all -> Int? in
            for (index, end) in ends.enumerated() {
                defer { start = end }
                guard end - start == value.count else { continue }
                if value.isEmpty || memcmp(all.baseAddress! + start, value.baseAddress!, value.count) == 0 { return index }
            }
            return nil
        }
        if let found { return strings[found] }
        let text = String(decoding: value, as: UTF8.self)
        if strings.count < limit {
            bytes.append(contentsOf: value)
            ends.append(bytes.count)
            strings.append(text)
        }
        return text
    }
}
