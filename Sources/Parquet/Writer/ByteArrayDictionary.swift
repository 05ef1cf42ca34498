import Foundation

/// A dictionary of byte strings for dictionary encoding: maps each distinct value to its index, keeping
/// the values in `plain`, already in the dictionary page's PLAIN encoding. Open addressing over one flat
/// buffer, so looking up a value allocates nothing (a `[[UInt8]: Int]` would allocate a key per lookup).
struct ByteArrayDictionary {
    /// The dictionary page body: for BYTE_ARRAY a 4-byte little-endian length before each value.
    private(set) var plain: [UInt8] = []
    private var starts: [Int] = []
    private var lengths: [Int32] = []
    private var hashes: [UInt64] = []
    private var table: [Int32] = Array(repeating: -1, count: 1024)
    let lengthPrefixed: Bool

    init(lengthPrefixed: Bool) { self.lengthPrefixed = lengthPrefixed }

    var count: Int { starts.count }

    mutating func removeAll() {
        plain.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
        hashes.removeAll(keepingCapacity: true)
        for i in table.indices { table[i] = -1 }
    }

    static func hash(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(p.count)
        var i = 0
        while i + 8 <= p.count {
            h = (h ^ p.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < p.count {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 32
        return h
    }

    /// The index of `value`, inserting it when new.
    mutating func index(of value: UnsafeRawBufferPointer) -> UInt32 {
        let h = Self.hash(value)
        var mask = table.count - 1
        var slot = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(table[slot])
            if e < 0 { break }
            if hashes[e] == h && Int(lengths[e]) == value.count {
                let same = plain.withUnsafeBytes { buf in
                    value.count == 0 || memcmp(buf.baseAddress! + starts[e], value.baseAddress!, value.count) == 0
                }
                if same { return UInt32(e) }
            }
            slot = (slot + 1) & mask
        }
        let index = starts.count
        if lengthPrefixed {
            let n = UInt32(value.count).littleEndian
            withUnsafeBytes(of: n) { plain.append(contentsOf: $0) }
        }
        starts.append(plain.count)
        plain.append(contentsOf: value.assumingMemoryBound(to: UInt8.self))
        lengths.append(Int32(value.count))
        hashes.append(h)
        table[slot] = Int32(index)
        if starts.count * 2 > table.count {
            table = Array(repeating: -1, count: table.count * 2)
            mask = table.count - 1
            for (i, hv) in hashes.enumerated() {
                var s = Int(truncatingIfNeeded: hv) & mask
                while table[s] >= 0 { s = (s + 1) & mask }
                table[s] = Int32(i)
            }
        }
        return UInt32(index)
    }
}

/// A dictionary of fixed-width values by bit pattern (INT32, INT64, FLOAT, DOUBLE): open addressing with a
/// multiplicative hash, cheaper per lookup than `Dictionary`'s seeded SipHash.
struct NumericDictionary {
    private var keys: [UInt64] = []
    private var table: [Int32] = Array(repeating: -1, count: 1024)

    var count: Int { keys.count }

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        for i in table.indices { table[i] = -1 }
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The index of `key`, and whether it was inserted now.
    @inline(__always)
    mutating func index(of key: UInt64) -> (UInt32, Bool) {
        let mask = table.count - 1
        var s = Self.slot(key, mask)
        while true {
            let e = Int(table[s])
            if e < 0 { break }
            if keys[e] == key { return (UInt32(e), false) }
            s = (s + 1) & mask
        }
        let index = keys.count
        keys.append(key)
        table[s] = Int32(index)
        if keys.count * 2 > table.count { grow() }
        return (UInt32(index), true)
    }

    private mutating func grow() {
        table = Array(repeating: -1, count: table.count * 2)
        let mask = table.count - 1
        for (i, k) in keys.enumerated() {
            var s = Self.slot(k, mask)
            while table[s] >= 0 { s = (s + 1) & mask }
            table[s] = Int32(i)
        }
    }
}
