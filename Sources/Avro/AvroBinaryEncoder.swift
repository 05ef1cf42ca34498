/// Avro binary encoding of primitive values (Avro 1.11 specification, "Binary Encoding").
///
/// Records are the concatenation of their fields in schema order; a union is the branch index (long)
/// followed by the value. Shared by the object container writer and by K2's Confluent-framed values.
public struct AvroBinaryEncoder: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
    }

    /// Raw bytes with no length prefix (Confluent framing, fixed, container sync markers).
    public mutating func writeRaw<C: Collection>(_ raw: C) where C.Element == UInt8 {
        bytes.append(contentsOf: raw)
    }

    public mutating func writeNull() {}

    public mutating func writeBoolean(_ value: Bool) {
        bytes.append(value ? 1 : 0)
    }

    /// `int` and `long` share the zig-zag variable-length encoding.
    public mutating func writeInt(_ value: Int32) {
        writeLong(Int64(value))
    }

    public mutating func writeLong(_ value: Int64) {
        var zigzag = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        while zigzag >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: zigzag) | 0x80)
            zigzag >>= 7
        }
        bytes.append(UInt8(zigzag))
    }

    public mutating func writeFloat(_ value: Float) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeDouble(_ value: Double) {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeBytes<C: Collection>(_ value: C) where C.Element == UInt8 {
        writeLong(Int64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func writeString(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            writeLong(Int64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// The branch index of a union; the branch's value follows.
    public mutating func writeUnionIndex(_ index: Int) {
        writeLong(Int64(index))
    }

    /// Arrays and maps are written as one block of `count` items followed by the terminating zero block.
    public mutating func writeBlockCount(_ count: Int) {
        writeLong(Int64(count))
    }
}
