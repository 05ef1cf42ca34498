import Codecs

/// Reads an Avro object container file: the header's schema, codec and metadata, then every record.
/// Errors name the byte offset in the file (and the caller adds the file's location).
public struct AvroContainerReader {
    public let schema: AvroSchema
    public let codec: AvroContainerCodec
    /// The header's metadata, `avro.*` keys included.
    public let metadata: [String: [UInt8]]
    private let bytes: [UInt8]
    private let sync: [UInt8]
    private let dataStart: Int

    public init(bytes: [UInt8]) throws {
        self.bytes = bytes
        guard bytes.count >= 4, bytes[0..<4] == [0x4F, 0x62, 0x6A, 0x01] else {
            throw AvroDecodingError(position: 0, message: "not an Avro object container file (bad magic)")
        }
        var decoder = AvroBinaryDecoder(bytes, position: 4)
        var metadata: [String: [UInt8]] = [:]
        while true {
            let count = try decoder.readBlockCount()
            if count == 0 { break }
            for _ in 0..<count {
                let key = try decoder.readString()
                metadata[key] = try decoder.readBytes()
            }
        }
        self.metadata = metadata
        sync = Array(try decoder.readRaw(16))
        dataStart = decoder.position
        guard let schemaBytes = metadata["avro.schema"] else {
            throw AvroDecodingError(position: 4, message: "header has no avro.schema")
        }
        do {
            schema = try AvroSchema(json: try JSONValue.parse(schemaBytes))
        } catch {
            throw AvroDecodingError(position: 4, message: "header schema: \(error)")
        }
        let codecName = metadata["avro.codec"].map { String(decoding: $0, as: UTF8.self) } ?? "null"
        guard let codec = AvroContainerCodec(rawValue: codecName) else {
            throw AvroDecodingError(position: 4, message: "unsupported codec \(codecName)")
        }
        self.codec = codec
    }

    public func metadataString(_ key: String) -> String? {
        metadata[key].map { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with each record, block by block.
    public func forEach(_ body: (AvroValue) throws -> Void) throws {
        let compressor = BlockCompressor()
        var decoder = AvroBinaryDecoder(bytes, position: dataStart)
        while !decoder.isAtEnd {
            let blockStart = decoder.position
            let count = try decoder.readLong()
            let size = try decoder.readLong()
            guard count >= 0, size >= 0 else {
                throw AvroDecodingError(position: blockStart, message: "block header with negative count \(count) or size \(size)")
            }
            guard size <= decoder.remaining else {
                throw AvroDecodingError(position: blockStart, message: "block of \(size) bytes exceeds the file")
            }
            let raw = try decoder.readRaw(Int(size))
            let data: [UInt8]
            do {
                data = try codec.decompress(raw, with: compressor)
            } catch {
                throw AvroDecodingError(position: blockStart, message: "block: \(error)")
            }
            var blockDecoder = AvroBinaryDecoder(data)
            for _ in 0..<count {
                do {
                    try body(try AvroDatum.decode(schema: schema, from: &blockDecoder))
                } catch let e as AvroDecodingError {
                    throw AvroDecodingError(position: blockStart, message: "in block: \(e.message) at block byte \(e.position)")
                }
            }
            // A block count lower than the records it holds would drop the rest silently.
            guard blockDecoder.isAtEnd else {
                throw AvroDecodingError(position: blockStart,
                                        message: "block holds \(blockDecoder.remaining) bytes after its \(count) records")
            }
            let syncAt = decoder.position
            guard Array(try decoder.readRaw(16)) == sync else {
                throw AvroDecodingError(position: syncAt, message: "sync marker mismatch")
            }
        }
    }

    public func readAll() throws -> [AvroValue] {
        var values: [AvroValue] = []
        try forEach { values.append($0) }
        return values
    }
}
