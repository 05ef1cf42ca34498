import Codecs

/// Writes an Avro object container file in memory (Avro 1.11, "Object Container Files"): the header
/// (magic, metadata map with `avro.schema` and `avro.codec`, sync marker), then blocks of records, each
/// followed by the sync marker. Manifests and manifest lists are small, so the file is built in memory
/// and handed to a FileIO in one atomic write.
public struct AvroContainerWriter {
    public let schema: AvroSchema
    public let codec: AvroContainerCodec
    public private(set) var recordCount = 0
    private let sync: [UInt8]
    private let blockSizeLimit: Int
    private var output: AvroBinaryEncoder
    private var block = AvroBinaryEncoder(capacity: 1 << 16)
    private var blockCount = 0
    private let compressor = BlockCompressor()

    /// - Parameter metadata: user metadata (Iceberg's `schema`, `partition-spec`, `format-version`, ...).
    public init(schema: AvroSchema, codec: AvroContainerCodec = .deflate, metadata: [(String, String)] = [],
                blockSize: Int = 64_000) {
        self.schema = schema
        self.codec = codec
        self.blockSizeLimit = blockSize
        var sync = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in 0..<16 { sync[i] = UInt8.random(in: 0...255, using: &rng) }
        self.sync = sync
        output = AvroBinaryEncoder(capacity: 4096)
        output.writeRaw([0x4F, 0x62, 0x6A, 0x01])  // "Obj" 1
        let entries: [(String, [UInt8])] = [
            ("avro.schema", Array(schema.toJSON().serialized().utf8)),
            ("avro.codec", Array(codec.rawValue.utf8)),
        ] + metadata.map { ($0.0, Array($0.1.utf8)) }
        output.writeBlockCount(entries.count)
        for (key, value) in entries {
            output.writeString(key)
            output.writeBytes(value)
        }
        output.writeBlockCount(0)
        output.writeRaw(sync)
    }

    public mutating func append(_ value: AvroValue) throws {
        try AvroDatum.encode(value, schema: schema, into: &block)
        blockCount += 1
        recordCount += 1
        if block.bytes.count >= blockSizeLimit { try flushBlock() }
    }

    private mutating func flushBlock() throws {
        guard blockCount > 0 else { return }
        let compressed = try codec.compress(block.bytes, with: compressor)
        output.writeLong(Int64(blockCount))
        output.writeLong(Int64(compressed.count))
        output.writeRaw(compressed)
        output.writeRaw(sync)
        block.removeAll()
        blockCount = 0
    }

    /// The complete file.
    public mutating func finish() throws -> [UInt8] {
        try flushBlock()
        return output.bytes
    }
}
