import Codecs
#if canImport(Glibc)
import Glibc
#endif

/// Values with a fixed-width PLAIN encoding (little-endian), usable as dictionary keys by bit pattern.
protocol PlainFixedWidth {
    var dictionaryKey: UInt64 { get }
    func appendPlain(to out: inout [UInt8])
}

extension Int32: PlainFixedWidth {
    var dictionaryKey: UInt64 { UInt64(UInt32(bitPattern: self)) }
    func appendPlain(to out: inout [UInt8]) { withUnsafeBytes(of: littleEndian) { out.append(contentsOf: $0) } }
}

extension Int64: PlainFixedWidth {
    var dictionaryKey: UInt64 { UInt64(bitPattern: self) }
    func appendPlain(to out: inout [UInt8]) { withUnsafeBytes(of: littleEndian) { out.append(contentsOf: $0) } }
}

extension Float: PlainFixedWidth {
    var dictionaryKey: UInt64 { UInt64(bitPattern.littleEndian) }
    func appendPlain(to out: inout [UInt8]) { withUnsafeBytes(of: bitPattern.littleEndian) { out.append(contentsOf: $0) } }
}

extension Double: PlainFixedWidth {
    var dictionaryKey: UInt64 { bitPattern }
    func appendPlain(to out: inout [UInt8]) { withUnsafeBytes(of: bitPattern.littleEndian) { out.append(contentsOf: $0) } }
}

/// Buffers one column's pages for the current row group: levels and values of the open page, the finished
/// (compressed) pages, the dictionary, and the chunk's statistics. Buffers are reused across pages and row
/// groups; nothing is allocated per value. A struct with mutating methods, so the hot loops touch `self`
/// without the dynamic exclusivity checks a class's stored properties would need on every access.
struct ColumnChunkWriter {
    let column: ParquetColumn
    private let options: ParquetWriterOptions
    private let compressor: BlockCompressor
    private let isOptional: Bool
    private let sortOrder: ParquetSortOrder
    private let dictionaryAllowed: Bool

    // Open page.
    private var definitionLevels: [UInt8] = []
    private var plainValues: [UInt8] = []
    private var dictionaryIndices: [UInt32] = []
    private var pageRows = 0
    private var pageNonNull = 0

    // Dictionary of the current chunk.
    private var useDictionary: Bool
    private var numericDictionary = NumericDictionary()
    private var numericDictionaryPlain: [UInt8] = []
    private var bytesDictionary: ByteArrayDictionary
    private var dictionaryPagesWritten = false

    // Finished pages of the current chunk.
    private var chunkPages: [UInt8] = []
    private var chunkUncompressed = 0
    private var chunkRows = 0
    private var chunkNulls = 0
    private var usedPlain = false
    private var usedDictionary = false

    // Statistics of the current chunk (PLAIN bytes of min/max) and of the whole file.
    private var chunkMin: [UInt8]?
    private var chunkMax: [UInt8]?
    private(set) var fileMin: [UInt8]?
    private(set) var fileMax: [UInt8]?
    private(set) var fileValues: Int64 = 0
    private(set) var fileNulls: Int64 = 0
    private(set) var fileCompressed: Int64 = 0
    private(set) var fileUncompressed: Int64 = 0

    // Scratch.
    private var body: [UInt8] = []
    private var compressed: [UInt8] = []
    private var header = ThriftCompactWriter()
    private var statScratch: [UInt8] = []

    init(column: ParquetColumn, options: ParquetWriterOptions, compressor: BlockCompressor) {
        self.column = column
        self.options = options
        self.compressor = compressor
        self.isOptional = column.repetition != .required
        self.sortOrder = ParquetSortOrder(column)
        self.dictionaryAllowed = options.dictionaryEnabled && column.physicalType != .boolean
            && !options.plainColumns.contains(column.name)
        self.useDictionary = dictionaryAllowed
        self.bytesDictionary = ByteArrayDictionary(lengthPrefixed: column.physicalType == .byteArray)
    }

    private var dictionaryCount: Int {
        switch column.physicalType {
        case .byteArray, .fixedLenByteArray: return bytesDictionary.count
        default: return numericDictionary.count
        }
    }

    private var dictionaryBytes: Int {
        switch column.physicalType {
        case .byteArray, .fixedLenByteArray: return bytesDictionary.plain.count
        default: return numericDictionaryPlain.count
        }
    }

    /// Bytes this column holds for the open row group (to cut row groups by size).
    var bufferedBytes: Int {
        chunkPages.count + plainValues.count + dictionaryIndices.count * 4 + definitionLevels.count / 8 + dictionaryBytes
    }

    private var pageEstimate: Int {
        if useDictionary {
            let width = max(1, RLEHybrid.bitWidth(forMax: UInt64(max(dictionaryCount, 1) - 1)))
            return plainValues.count + dictionaryIndices.count * width / 8 + definitionLevels.count / 8
        }
        return plainValues.count + definitionLevels.count / 8
    }

    // MARK: Appending values

    /// Appends rows `rows` of `data`, whose non-null values start at `valueStart`; returns the index of the
    /// next unconsumed value.
    mutating func append(_ data: ColumnData, rows: Range<Int>, valueStart: Int) throws -> Int {
        if !isOptional, let validity = data.validity, validity[rows].contains(false) {
            throw ParquetError.invalidInput("column \(column.name) is required but the batch has nulls")
        }
        switch (data.values, column.physicalType) {
        case (.boolean(let v), .boolean): return try appendBooleans(v, validity: data.validity, rows: rows, valueStart: valueStart)
        case (.int32(let v), .int32): return try appendFixed(v, validity: data.validity, rows: rows, valueStart: valueStart)
        case (.int64(let v), .int64): return try appendFixed(v, validity: data.validity, rows: rows, valueStart: valueStart)
        case (.float(let v), .float): return try appendFixed(v, validity: data.validity, rows: rows, valueStart: valueStart)
        case (.double(let v), .double): return try appendFixed(v, validity: data.validity, rows: rows, valueStart: valueStart)
        case (.byteArray(let v), .byteArray): return try appendByteArrays(v, validity: data.validity, rows: rows, valueStart: valueStart)
        case (.fixedLenByteArray(let v), .fixedLenByteArray):
            guard v.width == Int(column.typeLength ?? -1) else {
                throw ParquetError.invalidInput("column \(column.name) has width \(column.typeLength ?? 0), values have width \(v.width)")
            }
            return try appendFixedLen(v, validity: data.validity, rows: rows, valueStart: valueStart)
        default:
            throw ParquetError.invalidInput("column \(column.name) is \(column.physicalType), the batch holds other values")
        }
    }

    @inline(__always)
    private func rowIsNull(_ validity: [Bool]?, _ r: Int) -> Bool {
        if let validity { return !validity[r] }
        return false
    }

    private mutating func appendFixed<T: PlainFixedWidth>(_ values: [T], validity: [Bool]?, rows: Range<Int>, valueStart: Int) throws -> Int {
        var v = valueStart
        var batchMin: Int?
        var batchMax: Int?
        let order = sortOrder
        // The last value's bit pattern and dictionary index: a run of equal values (a commit's ingestion time,
        // a day, the milliseconds of a burst) repeats the index and cannot move the statistics, so it costs one
        // comparison instead of a hash look-up and two comparisons.
        var previousKey: UInt64 = 0
        var previousIndex: UInt32?
        for r in rows {
            if rowIsNull(validity, r) {
                definitionLevels.append(0)
            } else {
                guard v < values.count else { throw ParquetError.invalidInput("column \(column.name): fewer values than non-null rows") }
                if isOptional { definitionLevels.append(1) }
                let value = values[v]
                var repeated = false
                if useDictionary {
                    let key = value.dictionaryKey
                    if let index = previousIndex, key == previousKey {
                        dictionaryIndices.append(index)
                        repeated = true
                    } else {
                        let (index, inserted) = numericDictionary.index(of: key)
                        if inserted { value.appendPlain(to: &numericDictionaryPlain) }
                        dictionaryIndices.append(index)
                        previousKey = key
                        previousIndex = index
                    }
                } else {
                    value.appendPlain(to: &plainValues)
                }
                if !repeated && isCandidate(value) {
                    if let m = batchMin { if less(value, values[m], order) { batchMin = v } } else { batchMin = v }
                    if let m = batchMax { if less(values[m], value, order) { batchMax = v } } else { batchMax = v }
                }
                pageNonNull += 1
                v += 1
            }
            pageRows += 1
            try afterRow()
        }
        if let lo = batchMin, let hi = batchMax {
            statScratch.removeAll(keepingCapacity: true)
            values[lo].appendPlain(to: &statScratch)
            mergeMin(statScratch)
            statScratch.removeAll(keepingCapacity: true)
            values[hi].appendPlain(to: &statScratch)
            mergeMax(statScratch)
        }
        return v
    }

    /// NaN never enters statistics.
    @inline(__always)
    private func isCandidate<T>(_ value: T) -> Bool {
        if let f = value as? Float { return !f.isNaN }
        if let d = value as? Double { return !d.isNaN }
        return true
    }

    @inline(__always)
    private func less<T: PlainFixedWidth>(_ a: T, _ b: T, _ order: ParquetSortOrder) -> Bool {
        switch order {
        case .signedInt32: return (a as! Int32) < (b as! Int32)
        case .unsignedInt32: return UInt32(bitPattern: a as! Int32) < UInt32(bitPattern: b as! Int32)
        case .signedInt64: return (a as! Int64) < (b as! Int64)
        case .unsignedInt64: return UInt64(bitPattern: a as! Int64) < UInt64(bitPattern: b as! Int64)
        case .float: return (a as! Float) < (b as! Float)
        case .double: return (a as! Double) < (b as! Double)
        default: return false
        }
    }

    private mutating func appendBooleans(_ values: [Bool], validity: [Bool]?, rows: Range<Int>, valueStart: Int) throws -> Int {
        var v = valueStart
        var sawFalse = false, sawTrue = false
        for r in rows {
            if rowIsNull(validity, r) {
                definitionLevels.append(0)
            } else {
                guard v < values.count else { throw ParquetError.invalidInput("column \(column.name): fewer values than non-null rows") }
                if isOptional { definitionLevels.append(1) }
                let b = values[v]
                plainValues.append(b ? 1 : 0)  // one byte per value here; bit-packed when the page is written
                if b { sawTrue = true } else { sawFalse = true }
                pageNonNull += 1
                v += 1
            }
            pageRows += 1
            // Booleans take one bit each in the page.
            if plainValues.count / 8 + definitionLevels.count / 8 >= options.pageBytes { try flushPage() }
        }
        if sawFalse || sawTrue {
            mergeMin([sawFalse ? 0 : 1])
            mergeMax([sawTrue ? 1 : 0])
        }
        return v
    }

    private mutating func appendByteArrays(_ values: ByteArrayValues, validity: [Bool]?, rows: Range<Int>, valueStart: Int) throws -> Int {
        var v = valueStart
        var batchMin = -1, batchMax = -1
        var previous = UnsafeRawBufferPointer(start: nil, count: 0)
        var previousIndex = -1
        try values.bytes.withUnsafeBytes { all in
            @inline(__always) func slice(_ i: Int) -> UnsafeRawBufferPointer {
                let start = values.offsets[i]
                return UnsafeRawBufferPointer(rebasing: all[start..<values.offsets[i + 1]])
            }
            for r in rows {
                if rowIsNull(validity, r) {
                    definitionLevels.append(0)
                } else {
                    guard v < values.count else { throw ParquetError.invalidInput("column \(column.name): fewer values than non-null rows") }
                    if isOptional { definitionLevels.append(1) }
                    let value = slice(v)
                    // A run of equal values (a topic column) repeats the previous index and cannot move the
                    // statistics: one comparison instead of a hash, a lookup and two comparisons.
                    let repeats = useDictionary && previousIndex >= 0 && v > valueStart && previous.count == value.count
                        && (value.isEmpty || memcmp(previous.baseAddress!, value.baseAddress!, value.count) == 0)
                    if repeats {
                        dictionaryIndices.append(UInt32(previousIndex))
                    } else {
                        if useDictionary {
                            let index = bytesDictionary.index(of: value)
                            dictionaryIndices.append(index)
                            previousIndex = Int(index)
                        } else {
                            var n = UInt32(value.count).littleEndian
                            withUnsafeBytes(of: &n) { plainValues.append(contentsOf: $0) }
                            plainValues.append(contentsOf: value.assumingMemoryBound(to: UInt8.self))
                            previousIndex = -1
                        }
                        if batchMin < 0 || ParquetSortOrder.compareUnsigned(value, slice(batchMin)) < 0 { batchMin = v }
                        if batchMax < 0 || ParquetSortOrder.compareUnsigned(value, slice(batchMax)) > 0 { batchMax = v }
                    }
                    previous = value
                    pageNonNull += 1
                    v += 1
                }
                pageRows += 1
                try afterRow()
            }
        }
        if batchMin >= 0 {
            mergeMin(Array(values[batchMin]))
            mergeMax(Array(values[batchMax]))
        }
        return v
    }

    private mutating func appendFixedLen(_ values: FixedLenByteArrayValues, validity: [Bool]?, rows: Range<Int>, valueStart: Int) throws -> Int {
        var v = valueStart
        var batchMin = -1, batchMax = -1
        let width = values.width
        let signed = sortOrder == .signedBigEndianBytes
        try values.bytes.withUnsafeBytes { all in
            @inline(__always) func slice(_ i: Int) -> UnsafeRawBufferPointer {
                UnsafeRawBufferPointer(rebasing: all[i * width..<(i + 1) * width])
            }
            @inline(__always) func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
                signed ? ParquetSortOrder.compareSignedBigEndian(a, b) : ParquetSortOrder.compareUnsigned(a, b)
            }
            for r in rows {
                if rowIsNull(validity, r) {
                    definitionLevels.append(0)
                } else {
                    guard v < values.count else { throw ParquetError.invalidInput("column \(column.name): fewer values than non-null rows") }
                    if isOptional { definitionLevels.append(1) }
                    let value = slice(v)
                    if useDictionary {
                        dictionaryIndices.append(bytesDictionary.index(of: value))
                    } else {
                        plainValues.append(contentsOf: value.assumingMemoryBound(to: UInt8.self))
                    }
                    if batchMin < 0 || compare(value, slice(batchMin)) < 0 { batchMin = v }
                    if batchMax < 0 || compare(value, slice(batchMax)) > 0 { batchMax = v }
                    pageNonNull += 1
                    v += 1
                }
                pageRows += 1
                try afterRow()
            }
        }
        if batchMin >= 0 {
            mergeMin(Array(values[batchMin]))
            mergeMax(Array(values[batchMax]))
        }
        return v
    }

    /// Cuts the page when it reached its size, and falls back to PLAIN when the dictionary grew too large.
    @inline(__always)
    private mutating func afterRow() throws {
        if useDictionary && dictionaryBytes > options.dictionaryPageBytesLimit {
            try flushPage()
            useDictionary = false
            return
        }
        // The estimate costs a few operations: look every 8 rows (a page overshoots by at most 7 values).
        if pageRows & 7 == 0 && pageEstimate >= options.pageBytes { try flushPage() }
    }

    private mutating func mergeMin(_ candidate: [UInt8]) {
        if let current = chunkMin, sortOrder.compare(candidate, current) >= 0 { return }
        chunkMin = candidate
    }

    private mutating func mergeMax(_ candidate: [UInt8]) {
        if let current = chunkMax, sortOrder.compare(candidate, current) <= 0 { return }
        chunkMax = candidate
    }

    // MARK: Pages

    private mutating func flushPage() throws {
        guard pageRows > 0 else { return }
        body.removeAll(keepingCapacity: true)
        if isOptional {
            body.append(contentsOf: [0, 0, 0, 0])
            definitionLevels.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: 1, into: &body) }
            let length = UInt32(body.count - 4)
            for k in 0..<4 { body[k] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(k))) }
        }
        let encoding: ParquetEncoding
        if useDictionary && dictionaryCount > 0 {
            let width = max(1, RLEHybrid.bitWidth(forMax: UInt64(dictionaryCount - 1)))
            body.append(UInt8(width))
            dictionaryIndices.withUnsafeBufferPointer { RLEHybrid.encode($0, bitWidth: width, into: &body) }
            encoding = .rleDictionary
            usedDictionary = true
            dictionaryPagesWritten = true
        } else if column.physicalType == .boolean {
            plainValues.withUnsafeBufferPointer {
                RLEHybrid.packBits($0, from: 0, to: $0.count, paddedCount: $0.count, bitWidth: 1, into: &body)
            }
            encoding = .plain
            usedPlain = true
        } else {
            body.append(contentsOf: plainValues)
            encoding = .plain
            usedPlain = true
        }
        var pageHeader = PageHeader()
        pageHeader.type = PageType.dataPage.rawValue
        pageHeader.dataPageHeader = DataPageHeader(
            numValues: Int32(pageRows), encoding: encoding, definitionLevelEncoding: .rle, repetitionLevelEncoding: .rle)
        try encodePage(header: &pageHeader)
        chunkPages.append(contentsOf: header.bytes)
        chunkPages.append(contentsOf: compressed)
        chunkRows += pageRows
        chunkNulls += pageRows - pageNonNull
        definitionLevels.removeAll(keepingCapacity: true)
        plainValues.removeAll(keepingCapacity: true)
        dictionaryIndices.removeAll(keepingCapacity: true)
        pageRows = 0
        pageNonNull = 0
    }

    /// Compresses `body` into `compressed` and serializes the page header into `header`.
    private mutating func encodePage(header pageHeader: inout PageHeader) throws {
        compressed.removeAll(keepingCapacity: true)
        try body.withUnsafeBytes { try compressor.compress($0, codec: options.compression, into: &compressed) }
        guard body.count <= Int32.max, compressed.count <= Int32.max else {
            throw ParquetError.invalidInput("column \(column.name): page of \(body.count) bytes is too large")
        }
        pageHeader.uncompressedPageSize = Int32(body.count)
        pageHeader.compressedPageSize = Int32(compressed.count)
        header.reset()
        header.write(pageHeader)
        chunkUncompressed += header.bytes.count + body.count
    }

    // MARK: Row groups

    /// Finishes the chunk: writes dictionary page (if any) and data pages to `output` at `offset`, and
    /// returns its metadata. Resets the chunk state for the next row group.
    mutating func finishChunk(output: ParquetOutput, offset: Int64) throws -> ParquetColumnChunk {
        try flushPage()
        var dictionaryPage: [UInt8] = []
        if dictionaryPagesWritten {
            body.removeAll(keepingCapacity: true)
            switch column.physicalType {
            case .byteArray, .fixedLenByteArray: body.append(contentsOf: bytesDictionary.plain)
            default: body.append(contentsOf: numericDictionaryPlain)
            }
            var h = PageHeader()
            h.type = PageType.dictionaryPage.rawValue
            h.dictionaryPageHeader = DictionaryPageHeader(numValues: Int32(dictionaryCount), encoding: .plain, isSorted: nil)
            try encodePage(header: &h)
            dictionaryPage.append(contentsOf: header.bytes)
            dictionaryPage.append(contentsOf: compressed)
        }
        try dictionaryPage.withUnsafeBytes { try output.write($0) }
        try chunkPages.withUnsafeBytes { try output.write($0) }

        var md = ParquetColumnMetaData()
        md.type = column.physicalType
        var encodings: [ParquetEncoding] = []
        if usedPlain || dictionaryPagesWritten { encodings.append(.plain) }
        encodings.append(.rle)
        if usedDictionary { encodings.append(.rleDictionary) }
        md.encodings = encodings
        md.pathInSchema = [column.name]
        md.codec = options.parquetCompression
        md.numValues = Int64(chunkRows)
        md.totalUncompressedSize = Int64(chunkUncompressed)
        md.totalCompressedSize = Int64(dictionaryPage.count + chunkPages.count)
        md.dataPageOffset = offset + Int64(dictionaryPage.count)
        if !dictionaryPage.isEmpty { md.dictionaryPageOffset = offset }
        var stats = ParquetStatistics()
        stats.nullCount = Int64(chunkNulls)
        var chunkLow: [UInt8]?, chunkHigh: [UInt8]?
        if let lo = chunkMin, let hi = chunkMax {
            (chunkLow, chunkHigh) = normalizedZeros(lo, hi)
            if lo.count <= options.statisticsMaxBytes && hi.count <= options.statisticsMaxBytes {
                stats.minValue = chunkLow
                stats.maxValue = chunkHigh
            }
        }
        md.statistics = stats
        var chunk = ParquetColumnChunk()
        chunk.fileOffset = offset
        chunk.metaData = md

        // File-level totals.
        fileValues += Int64(chunkRows)
        fileNulls += Int64(chunkNulls)
        fileCompressed += md.totalCompressedSize
        fileUncompressed += md.totalUncompressedSize
        if let lo = chunkLow, fileMin.map({ sortOrder.compare(lo, $0) < 0 }) ?? true { fileMin = lo }
        if let hi = chunkHigh, fileMax.map({ sortOrder.compare(hi, $0) > 0 }) ?? true { fileMax = hi }

        // Reset for the next row group.
        chunkPages.removeAll(keepingCapacity: true)
        chunkUncompressed = 0
        chunkRows = 0
        chunkNulls = 0
        chunkMin = nil
        chunkMax = nil
        usedPlain = false
        usedDictionary = false
        dictionaryPagesWritten = false
        numericDictionary.removeAll()
        numericDictionaryPlain.removeAll(keepingCapacity: true)
        bytesDictionary.removeAll()
        useDictionary = dictionaryAllowed
        return chunk
    }

    /// Parquet's rule for float statistics: a zero minimum is written as -0.0 and a zero maximum as +0.0,
    /// so readers that compare with either sign still include every zero.
    private func normalizedZeros(_ lo: [UInt8], _ hi: [UInt8]) -> ([UInt8], [UInt8]) {
        switch column.physicalType {
        case .float:
            var mn = lo, mx = hi
            if Float(bitPattern: ParquetSortOrder.load(lo, UInt32.self)) == 0 { mn = [0, 0, 0, 0x80] }
            if Float(bitPattern: ParquetSortOrder.load(hi, UInt32.self)) == 0 { mx = [0, 0, 0, 0] }
            return (mn, mx)
        case .double:
            var mn = lo, mx = hi
            if Double(bitPattern: ParquetSortOrder.load(lo, UInt64.self)) == 0 { mn = [0, 0, 0, 0, 0, 0, 0, 0x80] }
            if Double(bitPattern: ParquetSortOrder.load(hi, UInt64.self)) == 0 { mx = [0, 0, 0, 0, 0, 0, 0, 0] }
            return (mn, mx)
        default:
            return (lo, hi)
        }
    }
}
