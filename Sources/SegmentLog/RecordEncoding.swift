/// The record layout inside a block's uncompressed payload (docs/segment-format.md, "Records").
enum RecordEncoding {
    static let hasKafka: UInt8 = 1 << 0
    static let hasGapExpected: UInt8 = 1 << 1
    static let hasGapSeen: UInt8 = 1 << 2

    /// Appends `record` with `sequence`; times and sequences are deltas from the previous record of the block
    /// (the first record's from zero).
    @inline(__always)
    static func append(_ record: LogRecord, sequence: UInt64, previousTime: Int64, previousSequence: UInt64, to b: inout [UInt8]) {
        var fields: UInt8 = 0
        if record.kafka != nil { fields |= hasKafka }
        if record.gapExpected != nil { fields |= hasGapExpected }
        if record.gapSeen != nil { fields |= hasGapSeen }
        b.append(record.kind.rawValue)
        b.append(record.flags.rawValue)
        b.append(fields)
        b.appendZigZag(record.receiveTimeNanos &- previousTime)
        b.appendVarint(sequence &- previousSequence)
        b.appendVarint(UInt64(record.payload.count))
        b.append(contentsOf: record.payload)
        if let k = record.kafka {
            b.appendZigZag(Int64(k.partition))
            b.appendZigZag(k.offset)
            b.appendZigZag(k.timestampMs)
            b.append(UInt8(bitPattern: k.timestampType))
            appendOptionalBytes(k.key, to: &b)
            b.appendVarint(UInt64(k.headers.count))
            for h in k.headers {
                let name = Array(h.name.utf8)
                b.appendVarint(UInt64(name.count))
                b.append(contentsOf: name)
                appendOptionalBytes(h.value, to: &b)
            }
        }
        if let e = record.gapExpected { b.appendZigZag(e) }
        if let s = record.gapSeen { b.appendZigZag(s) }
    }

    /// Appends a record without Kafka coordinates or gap fields whose payload is borrowed bytes: the same
    /// encoding `append(_:sequence:previousTime:previousSequence:to:)` gives such a record.
    @inline(__always)
    static func appendFrame(kind: RecordKind, flags: RecordFlags, receiveTimeNanos: Int64, payload: UnsafeRawBufferPointer,
                            sequence: UInt64, previousTime: Int64, previousSequence: UInt64, to b: inout [UInt8]) {
        b.append(kind.rawValue)
        b.append(flags.rawValue)
        b.append(0)
        b.appendZigZag(receiveTimeNanos &- previousTime)
        b.appendVarint(sequence &- previousSequence)
        b.appendVarint(UInt64(payload.count))
        b.append(contentsOf: payload)
    }

    private static func appendOptionalBytes(_ bytes: [UInt8]?, to b: inout [UInt8]) {
        guard let bytes else { b.appendVarint(0); return }
        b.appendVarint(UInt64(bytes.count) + 1)
        b.append(contentsOf: bytes)
    }

    static func decodeOptionalBytes(_ c: inout ByteCursor) throws -> [UInt8]? {
        let n = try c.varint()
        if n == 0 { return nil }
        guard n - 1 <= UInt64(c.remaining) else { throw ByteCursor.Overrun() }
        return try c.bytesArray(Int(n - 1))
    }

    static func decodeKafka(_ c: inout ByteCursor) throws -> KafkaCoordinates {
        let partition = try c.zigzag()
        guard let p32 = Int32(exactly: partition) else { throw ByteCursor.Overrun() }
        let offset = try c.zigzag()
        let ts = try c.zigzag()
        let tsType = Int8(bitPattern: try c.u8())
        let key = try decodeOptionalBytes(&c)
        let headerCount = try c.varint()
        guard headerCount <= UInt64(c.remaining) else { throw ByteCursor.Overrun() }
        var headers: [KafkaHeader] = []
        for _ in 0..<headerCount {
            let n = try c.varint()
            guard n <= UInt64(c.remaining) else { throw ByteCursor.Overrun() }
            let name = String(decoding: try c.bytesArray(Int(n)), as: UTF8.self)
            headers.append(KafkaHeader(name: name, value: try decodeOptionalBytes(&c)))
        }
        return KafkaCoordinates(partition: p32, offset: offset, timestampMs: ts, timestampType: tsType, key: key, headers: headers)
    }
}
