import Codecs

/// Decodes the pages of one column chunk (already read into memory) into a `ValueSink` and validity.
struct ColumnChunkReader {
    let column: ParquetColumn
    let metaData: ParquetColumnMetaData
    let compressor: BlockCompressor

    /// Decodes `chunk` (the bytes from the chunk's first page to its end), appending values to `sink` and,
    /// for optional columns, one entry per row to `validity`. Returns the number of rows decoded.
    func decode(_ chunk: [UInt8], into sink: inout ValueSink, validity: inout [Bool]) throws -> Int {
        let codec = try Self.codec(metaData.codec)
        let maxDefinition = column.maxDefinitionLevel
        var position = 0
        var rows = 0
        var dictionary: ValueSink?
        var pageBytes: [UInt8] = []
        var levels: [UInt32] = []
        var indices: [UInt32] = []
        while Int64(rows) < metaData.numValues {
            guard position < chunk.count else {
                throw PageDecodeError("chunk ended after \(rows) of \(metaData.numValues) values")
            }
            var thrift = ThriftCompactReader(bytes: chunk, position: position)
            let header: PageHeader
            do {
                header = try thrift.readPageHeader()
            } catch let e as ThriftCompactReader.DecodeError {
                throw PageDecodeError("page header decode failure at chunk byte \(position): \(e.message)")
            }
            let bodyStart = thrift.position
            let bodyEnd = bodyStart + Int(header.compressedPageSize)
            guard bodyEnd <= chunk.count else {
                throw PageDecodeError("page at chunk byte \(position) claims \(header.compressedPageSize) bytes, only \(chunk.count - bodyStart) left")
            }
            position = bodyEnd
            switch PageType(rawValue: header.type) {
            case .dictionaryPage:
                guard let d = header.dictionaryPageHeader else { throw PageDecodeError("dictionary page without its header") }
                guard d.encoding == .plain || d.encoding == .plainDictionary else {
                    throw PageDecodeError("dictionary page encoded \(d.encoding)")
                }
                try decompress(chunk, bodyStart..<bodyEnd, codec: codec, size: Int(header.uncompressedPageSize), into: &pageBytes)
                var dict = ValueSink(physicalType: sink.physicalType, width: sink.width)
                try pageBytes.withUnsafeBytes { buf in
                    var cursor = ByteCursor(buf)
                    try dict.appendPlain(&cursor, count: Int(d.numValues))
                }
                dictionary = dict
            case .dataPage:
                guard let d = header.dataPageHeader else { throw PageDecodeError("data page without its header") }
                try decompress(chunk, bodyStart..<bodyEnd, codec: codec, size: Int(header.uncompressedPageSize), into: &pageBytes)
                let count = Int(d.numValues)
                try pageBytes.withUnsafeBytes { buf in
                    var cursor = ByteCursor(buf)
                    var nonNull = count
                    if maxDefinition > 0 {
                        guard d.definitionLevelEncoding == .rle else {
                            throw PageDecodeError("definition levels encoded \(d.definitionLevelEncoding)")
                        }
                        let length = Int(try cursor.uint32LE())
                        guard length <= cursor.remaining else { throw PageDecodeError("definition levels of \(length) bytes beyond the page") }
                        levels.removeAll(keepingCapacity: true)
                        var decoder = try RLEHybridDecoder(ByteCursor(buf, position: cursor.position, end: cursor.position + length), bitWidth: 1)
                        try decoder.decode(count: count, into: &levels)
                        cursor.position += length
                        nonNull = appendValidity(levels, maxDefinition: maxDefinition, to: &validity)
                    }
                    try decodeValues(&cursor, encoding: d.encoding, count: nonNull, dictionary: dictionary, indices: &indices, into: &sink)
                }
                rows += count
            case .dataPageV2:
                guard let d = header.dataPageHeaderV2 else { throw PageDecodeError("data page v2 without its header") }
                let repLength = Int(d.repetitionLevelsByteLength), defLength = Int(d.definitionLevelsByteLength)
                guard repLength >= 0, defLength >= 0, repLength + defLength <= bodyEnd - bodyStart else {
                    throw PageDecodeError("data page v2 level lengths \(repLength)+\(defLength) beyond the page")
                }
                let count = Int(d.numValues)
                var nonNull = count - Int(d.numNulls)
                if maxDefinition > 0 {
                    levels.removeAll(keepingCapacity: true)
                    let levelStart = bodyStart + repLength
                    try chunk.withUnsafeBytes { buf in
                        var decoder = try RLEHybridDecoder(ByteCursor(buf, position: levelStart, end: levelStart + defLength), bitWidth: 1)
                        try decoder.decode(count: count, into: &levels)
                    }
                    nonNull = appendValidity(levels, maxDefinition: maxDefinition, to: &validity)
                }
                let valuesStart = bodyStart + repLength + defLength
                let uncompressedValues = Int(header.uncompressedPageSize) - repLength - defLength
                try decompress(chunk, valuesStart..<bodyEnd, codec: d.isCompressed ? codec : .none, size: uncompressedValues, into: &pageBytes)
                try pageBytes.withUnsafeBytes { buf in
                    var cursor = ByteCursor(buf)
                    try decodeValues(&cursor, encoding: d.encoding, count: nonNull, dictionary: dictionary, indices: &indices, into: &sink)
                }
                rows += count
            case .indexPage, nil:
                continue  // not needed to read values
            }
        }
        return rows
    }

    /// Appends one validity entry per level; returns how many rows have a value.
    private func appendValidity(_ levels: [UInt32], maxDefinition: Int, to validity: inout [Bool]) -> Int {
        var nonNull = 0
        validity.reserveCapacity(validity.count + levels.count)
        for l in levels {
            let present = l == UInt32(maxDefinition)
            validity.append(present)
            if present { nonNull += 1 }
        }
        return nonNull
    }

    private func decodeValues(
        _ cursor: inout ByteCursor, encoding: ParquetEncoding, count: Int, dictionary: ValueSink?,
        indices: inout [UInt32], into sink: inout ValueSink
    ) throws {
        if count == 0 { return }
        switch encoding {
        case .plain:
            try sink.appendPlain(&cursor, count: count)
        case .rleDictionary, .plainDictionary:
            guard let dictionary else { throw PageDecodeError("dictionary-encoded page without a dictionary page") }
            let width = Int(try cursor.byte())
            indices.removeAll(keepingCapacity: true)
            var decoder = try RLEHybridDecoder(cursor, bitWidth: width)
            try decoder.decode(count: count, into: &indices)
            try sink.appendFromDictionary(dictionary, indices: indices)
        case .rle:
            // Booleans in v2 pages: a 4-byte length, then the RLE/bit-packed hybrid with width 1.
            guard sink.physicalType == .boolean else { throw PageDecodeError("RLE values on a \(sink.physicalType) column") }
            let length = Int(try cursor.uint32LE())
            guard length <= cursor.remaining else { throw PageDecodeError("RLE booleans of \(length) bytes beyond the page") }
            indices.removeAll(keepingCapacity: true)
            var decoder = try RLEHybridDecoder(ByteCursor(cursor.base, position: cursor.position, end: cursor.position + length), bitWidth: 1)
            try decoder.decode(count: count, into: &indices)
            for v in indices { sink.booleans.append(v == 1) }
        case .deltaBinaryPacked:
            let values = try DeltaDecoding.binaryPacked(&cursor)
            guard values.count == count else { throw PageDecodeError("DELTA_BINARY_PACKED has \(values.count) values, page needs \(count)") }
            try sink.appendIntegers(values)
        case .deltaLengthByteArray:
            try DeltaDecoding.lengthByteArray(&cursor, count: count, into: &sink)
        case .deltaByteArray:
            try DeltaDecoding.byteArray(&cursor, count: count, into: &sink)
        case .byteStreamSplit:
            try sink.appendByteStreamSplit(&cursor, count: count)
        default:
            throw PageDecodeError("unsupported encoding \(encoding)")
        }
    }

    private func decompress(_ chunk: [UInt8], _ range: Range<Int>, codec: CompressionCodec, size: Int, into out: inout [UInt8]) throws {
        out.removeAll(keepingCapacity: true)
        guard size >= 0 else { throw PageDecodeError("negative uncompressed page size") }
        // A corrupt header must not make us allocate gigabytes: no real page comes near 1 GiB.
        guard size <= 1 << 30 else { throw PageDecodeError("uncompressed page size \(size) is implausible") }
        if range.isEmpty && size == 0 { return }
        do {
            try chunk.withUnsafeBytes { buf in
                try compressor.decompress(UnsafeRawBufferPointer(rebasing: buf[range]), codec: codec, uncompressedSize: size, into: &out)
            }
        } catch let e as CodecError {
            throw PageDecodeError("page decompression failed (\(e))")
        }
    }

    static func codec(_ c: ParquetCompression) throws -> CompressionCodec {
        switch c {
        case .uncompressed: return .none
        case .snappy: return .snappy
        case .gzip: return .gzip(level: 6)
        case .zstd: return .zstdDefault
        case .lz4Raw: return .lz4
        default: throw PageDecodeError("compression codec \(c) is not supported")
        }
    }
}
