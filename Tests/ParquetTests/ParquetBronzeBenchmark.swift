import Codecs
import Parquet

/// Bronze-shaped rows for the Parquet tests: write N rows (200-byte `raw_bytes`) with zstd, then read the
/// `partition` and `offset` columns back. (It was a bench helper in the library; only tests use it.)
enum ParquetBronzeBenchmark {
    /// The Bronze table columns (docs/k2-platform.md §3, Spark-written variant), field ids 1...7.
    static let schema = ParquetSchema([
        .binary("raw_bytes", fieldId: 1),
        .string("topic", fieldId: 2),
        .int32("partition", fieldId: 3),
        .int64("offset", fieldId: 4),
        .timestamp("kafka_timestamp", unit: .micros, isAdjustedToUTC: true, fieldId: 5),
        .timestamp("ingestion_timestamp", unit: .micros, isAdjustedToUTC: true, fieldId: 6),
        .date("ingestion_date", fieldId: 7),
    ])

    /// One batch of `rows` rows starting at Kafka offset `firstOffset`, spread over 6 partitions.
    /// `raw_bytes` is a Confluent-framed value: magic 0, a 4-byte schema id, then 195 pseudo-random bytes.
    static func batch(rows: Int, firstOffset: Int64, seed: UInt64 = 1) -> [ColumnData] {
        var state = seed &+ UInt64(bitPattern: firstOffset)
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var raw = ByteArrayValues()
        raw.reserve(values: rows, bytes: rows * 200)
        var topic = ByteArrayValues()
        topic.reserve(values: rows, bytes: rows * 25)
        var partition: [Int32] = [], offset: [Int64] = [], kafkaTs: [Int64] = [], ingestTs: [Int64] = [], date: [Int32] = []
        partition.reserveCapacity(rows)
        offset.reserveCapacity(rows)
        let topicName = Array("market.raw.trades.binance".utf8)
        var value = [UInt8](repeating: 0, count: 200)
        value[4] = 7  // schema id 7, big-endian
        let baseMicros: Int64 = 1_740_830_400_000_000  // 2025-03-01T12:00:00Z
        for i in 0..<rows {
            var k = 5
            while k < 200 {
                let r = next()
                for b in 0..<8 where k + b < 200 { value[k + b] = UInt8(truncatingIfNeeded: r >> (8 * UInt64(b))) }
                k += 8
            }
            raw.append(value)
            topic.append(topicName)
            let o = firstOffset + Int64(i)
            partition.append(Int32(o % 6))
            offset.append(o / 6)
            let ts = baseMicros + o * 1_000
            kafkaTs.append(ts)
            ingestTs.append(ts + 150_000)
            date.append(Int32(ts / 86_400_000_000))
        }
        return [
            ColumnData(.byteArray(raw)), ColumnData(.byteArray(topic)), ColumnData(.int32(partition)),
            ColumnData(.int64(offset)), ColumnData(.int64(kafkaTs)), ColumnData(.int64(ingestTs)), ColumnData(.int32(date)),
        ]
    }

    struct Measurement: Sendable {
        var rows: Int
        var fileBytes: Int64
        var writeSeconds: Double
        var readSeconds: Double
        var writeRowsPerSecond: Double { Double(rows) / writeSeconds }
        var readRowsPerSecond: Double { Double(rows) / readSeconds }
        /// Sum of the `offset` column read back (checks the read did the work).
        var offsetSum: Int64
    }

    /// Writes `rows` rows to `path` with zstd in batches of `batchRows`, then reads `partition` and
    /// `offset` back; returns both timings.
    static func run(rows: Int, path: String, batchRows: Int = 50_000, options: ParquetWriterOptions = ParquetWriterOptions()) throws -> Measurement {
        var batches: [[ColumnData]] = []
        var start = 0
        while start < rows {
            let n = min(batchRows, rows - start)
            batches.append(batch(rows: n, firstOffset: Int64(start)))
            start += n
        }
        let clock = ContinuousClock()
        let writeStart = clock.now
        let output = try ParquetFileOutput(path: path)
        let writer = try ParquetWriter(schema: schema, options: options, output: output)
        for b in batches { try writer.write(b) }
        let result = try writer.close()
        try output.close()
        let writeTime = clock.now - writeStart

        let readStart = clock.now
        let reader = try ParquetReader(path: path)
        var sum: Int64 = 0
        for g in 0..<reader.rowGroupCount {
            let columns = try reader.readRowGroup(g, columns: [.name("partition"), .name("offset")])
            if case .int64(let offsets) = columns[1].values { for o in offsets { sum &+= o } }
        }
        let readTime = clock.now - readStart
        return Measurement(rows: rows, fileBytes: result.fileSize, writeSeconds: seconds(writeTime), readSeconds: seconds(readTime), offsetSum: sum)
    }

    private static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}
