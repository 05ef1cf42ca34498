import Bronze
import Foundation
import Kafka
import SegmentLog
import TestSupport
import XCTest

final class ReplayToIcebergTests: BronzeTableTestCase {
    override class var directoryPrefix: String { "bronze-iceberg" }

    func icebergArguments(table: String, style: String, from: String? = nil) -> [String] {
        ["--from", from ?? log, "--to", "iceberg", "--catalog", "sqlite:" + database, "--warehouse", warehouse,
         "--table", table, "--style", style]
    }

    /// The Kafka values `--to kafka` sends for the Binance frames of the log (the same encoder, schema id 7),
    /// in log order, with each frame's receive time.
    func expectedBinanceValues() throws -> [(value: [UInt8], key: String, receiveNanos: Int64)] {
        var selection = ReadSelection()
        selection.sources = ["binance"]
        let reader = try SegmentLogReader(directory: log, selection: selection, diagnostics: { _ in })
        var encoder = BronzeRecordEncoder(format: .avroConfluent, schemaIds: [.binance: 7, .kraken: 7])
        var out: [(value: [UInt8], key: String, receiveNanos: Int64)] = []
        while let record = try reader.next() {
            try encoder.encode(source: record.source, stream: record.stream, payload: record.payload,
                               receiveTimeNanos: record.receiveTimeNanos) { view in
                out.append((Array(view.value), view.key, record.receiveTimeNanos))
            }
        }
        return out
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    // MARK: Exchange logs

    func testSparkStyleFromExchangeLogReadByPyicebergAndDuckdb() throws {
        let fixture = try BronzeLogFixture.write(to: log)
        let table = "market_data.bronze_binance_trades"
        let common = icebergArguments(table: table, style: "spark") + ["--source", "binance", "--schema-id", "7",
                                                                        "--commit-rows", "50", "--ingestion-time", "capture"]
        let plan = try ReplayRunner.run(common + ["--dry-run"])
        XCTAssertEqual(plan.status, 0, plan.stderrText)
        XCTAssertTrue(plan.stdoutText.contains("plan: 240 rows in 5 commits"), plan.stdoutText)
        XCTAssertFalse(FileManager.default.fileExists(atPath: database) && plan.stderrText.contains("created"), "a dry run creates nothing")

        let result = try ReplayRunner.run(common + ["--create", "--json", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderrText)
        let summary = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
        XCTAssertEqual(summary?["rows_committed"] as? Int, 240)
        XCTAssertEqual(summary?["commits"] as? Int, 5)

        let back = try TableReadBack.read(database: database, warehouse: warehouse, table: table)
        // Schema, spec and properties exactly as the Spark job's table.
        XCTAssertEqual(back.fields.map { $0[1] as? String }, ["raw_bytes", "topic", "partition", "offset", "kafka_timestamp",
                                                                 "ingestion_timestamp", "ingestion_date"])
        XCTAssertEqual(back.fields.map { $0[0] as? Int }, [1, 2, 3, 4, 5, 6, 7])
        XCTAssertEqual(back.fields.map { $0[2] as? String }, ["binary", "string", "int", "long", "timestamptz", "timestamptz", "date"])
        XCTAssertEqual(back.fields.map { $0[3] as? Bool }, [false, false, false, false, false, false, false])
        XCTAssertEqual(back.spec.first?[0] as? String, "ingestion_date_day")
        XCTAssertEqual(back.spec.first?[1] as? String, "day")
        XCTAssertEqual(back.spec.first?[2] as? Int, 7)
        XCTAssertEqual(back.properties["write.parquet.compression-codec"], "zstd")
        XCTAssertEqual(back.properties["write.target-file-size-bytes"], "134217728")
        XCTAssertEqual(back.properties["write.format.default"], "parquet")
        XCTAssertEqual(back.arrowTypes["kafka_timestamp"], "timestamp[us, tz=UTC]")
        XCTAssertEqual(back.arrowTypes["ingestion_timestamp"], "timestamp[us, tz=UTC]")
        XCTAssertEqual(back.arrowTypes["ingestion_date"], "date32[day]")

        // Every row, as pyiceberg and duckdb read it, is the record `--to kafka` would have produced.
        XCTAssertEqual(back.rows.count, 240)
        XCTAssertEqual(back.rows, back.duckRows, "duckdb read_parquet and pyiceberg disagree")
        let expected = try expectedBinanceValues()
        XCTAssertEqual(expected.count, 240)
        var wanted: [String: (key: String, receiveNanos: Int64)] = [:]
        for e in expected { wanted[Self.hex(e.value)] = (e.key, e.receiveNanos) }
        XCTAssertEqual(Set(back.rows.map(\.rawHex)), Set(wanted.keys))
        for row in back.rows {
            guard let want = wanted[row.rawHex] else { XCTFail("unexpected raw_bytes \(row)"); continue }
            XCTAssertNil(row.offset, "an exchange-captured record has no Kafka offset")
            XCTAssertEqual(row.topic, "market.crypto.trades.binance.raw")
            XCTAssertEqual(row.partition, Int64(K2Partitioner.partition(key: want.key, partitionCount: 6)!))
            XCTAssertEqual(row.kafkaTimestamp, want.receiveNanos / 1_000_000 * 1000)
            XCTAssertEqual(row.ingestionTimestamp, want.receiveNanos / 1000, "--ingestion-time capture keeps µs")
            XCTAssertEqual(row.ingestionDate, row.ingestionTimestamp / 86_400_000_000)
        }
        // fastavro decodes every trade id once.
        let decoded = back.rows.compactMap(\.decoded).sorted()
        let ids = fixture.binanceTradeIds.flatMap { symbol, ids in ids.map { "\(symbol):\($0)" } }.sorted()
        XCTAssertEqual(decoded, ids)

        // Each commit recorded the progress; the last one names every stream at its last sequence.
        let ours = back.snapshotSummaries.filter { $0["k2.replay.run-id"] != nil }
        XCTAssertEqual(ours.count, 5)
        XCTAssertEqual(ours.last?["k2.replay.rows"], "240")
        XCTAssertEqual(ours.last?["k2.replay.progress"], #"{"binance/btcusdt@trade":120,"binance/ethusdt@trade":120}"#)

        // A rerun with the same arguments finds everything done and writes nothing.
        let again = try ReplayRunner.run(common + ["--json", "--quiet"])
        XCTAssertEqual(again.status, 0, again.stderrText)
        let againSummary = try JSONSerialization.jsonObject(with: again.stdout) as? [String: Any]
        XCTAssertEqual(againSummary?["rows"] as? Int, 0)
        XCTAssertEqual(try TableReadBack.read(database: database, warehouse: warehouse, table: table).rows.count, 240)
    }

    func testFlinkStyleRefusesExchangeLogWithoutOffsets() throws {
        _ = try BronzeLogFixture.write(to: log)
        let result = try ReplayRunner.run(icebergArguments(table: "market_data.bronze_binance_trades_flink", style: "flink")
                                          + ["--source", "binance", "--schema-id", "7", "--create"])
        XCTAssertEqual(result.status, 2, result.stderrText)
        XCTAssertTrue(result.stderrText.contains("requires column offset"), result.stderrText)
        XCTAssertTrue(result.stderrText.contains("binance/btcusdt@trade"), result.stderrText)
    }

    func testExistingTableOfTheOtherStyleIsRefusedNamingTheColumn() throws {
        _ = try BronzeLogFixture.write(to: log)
        let table = "market_data.bronze_binance_trades"
        let source = ["--source", "kafka:" + BronzeLogFixture.kafkaTopic]
        let created = try ReplayRunner.run(icebergArguments(table: table, style: "spark") + source + ["--create", "--quiet"])
        XCTAssertEqual(created.status, 0, created.stderrText)
        let refused = try ReplayRunner.run(icebergArguments(table: table, style: "flink") + source)
        XCTAssertEqual(refused.status, 2, refused.stderrText)
        XCTAssertTrue(refused.stderrText.contains("at column raw_bytes"), refused.stderrText)
        XCTAssertTrue(refused.stderrText.contains("optional binary"), refused.stderrText)
    }

    // MARK: Records with Kafka coordinates

    /// Checks a table filled from Kafka-sourced records: every (partition, offset) once, with its value and timestamp.
    func assertKafkaRows(_ back: TableReadBack, expected: [[Int64]: (value: [UInt8], timestampMs: Int64)], style: BronzeTableStyle,
                         startMicros: Int64, endMicros: Int64, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(back.rows, back.duckRows, "duckdb read_parquet and pyiceberg disagree", file: file, line: line)
        XCTAssertEqual(back.rows.count, expected.count, file: file, line: line)
        let keys = back.rows.map { [$0.partition, $0.offset ?? -1] }
        XCTAssertEqual(Set(keys).count, keys.count, "duplicate (partition, offset)", file: file, line: line)
        XCTAssertEqual(Set(keys), Set(expected.keys), file: file, line: line)
        for row in back.rows {
            guard let want = expected[[row.partition, row.offset ?? -1]] else { continue }
            XCTAssertEqual(row.rawHex, Self.hex(want.value), "raw_bytes at \(row)", file: file, line: line)
            XCTAssertEqual(row.kafkaTimestamp, want.timestampMs * 1000, file: file, line: line)
            XCTAssertEqual(row.topic, BronzeLogFixture.kafkaTopic, file: file, line: line)
            let lower = style == .flink ? startMicros / 1000 * 1000 : startMicros
            XCTAssertTrue(row.ingestionTimestamp >= lower && row.ingestionTimestamp <= endMicros,
                          "ingestion time is the replay's clock: \(row.ingestionTimestamp) not in [\(lower), \(endMicros)]", file: file, line: line)
            XCTAssertEqual(row.ingestionDate, row.ingestionTimestamp / 86_400_000_000, file: file, line: line)
            if style == .flink {
                XCTAssertEqual(row.kafkaTimestamp % 1000, 0, file: file, line: line)
                XCTAssertEqual(row.ingestionTimestamp % 1000, 0, "Flink keeps milliseconds", file: file, line: line)
            }
        }
        switch style {
        case .spark:
            XCTAssertEqual(back.fieldType("kafka_timestamp"), "timestamptz", file: file, line: line)
            XCTAssertEqual(back.fieldType("ingestion_timestamp"), "timestamptz", file: file, line: line)
            XCTAssertEqual(back.arrowTypes["kafka_timestamp"], "timestamp[us, tz=UTC]", file: file, line: line)
            // duckdb reports the UTC-adjusted column in its session zone name (UTC or Etc/UTC).
            XCTAssertTrue(["timestamp[us, tz=UTC]", "timestamp[us, tz=Etc/UTC]"].contains(back.duckTypes["ingestion_timestamp"] ?? ""),
                          "\(back.duckTypes)", file: file, line: line)
            XCTAssertEqual(back.fieldRequired("offset"), false, file: file, line: line)
        case .flink:
            XCTAssertEqual(back.fieldType("kafka_timestamp"), "timestamp", file: file, line: line)
            XCTAssertEqual(back.fieldType("ingestion_timestamp"), "timestamp", file: file, line: line)
            XCTAssertEqual(back.arrowTypes["kafka_timestamp"], "timestamp[us]", file: file, line: line)
            XCTAssertEqual(back.duckTypes["ingestion_timestamp"], "timestamp[us]", file: file, line: line)
            XCTAssertEqual(back.fields.compactMap { $0[3] as? Bool }, [Bool](repeating: true, count: 7), "all required", file: file, line: line)
            XCTAssertEqual(back.spec.first?[0] as? String, "ingestion_date", file: file, line: line)
            XCTAssertEqual(back.spec.first?[1] as? String, "identity", file: file, line: line)
            XCTAssertEqual(back.properties["write.parquet.compression-codec"], "snappy", file: file, line: line)
            XCTAssertEqual(back.properties["write.metadata.compression-codec"], "gzip", file: file, line: line)
            XCTAssertEqual(back.properties["write.metadata.previous-versions-max"], "5", file: file, line: line)
            XCTAssertTrue(back.metadataLocation.hasSuffix(".gz.metadata.json"), back.metadataLocation, file: file, line: line)
        }
    }

    static func nowMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e6) }

    func testBothStylesFromKafkaCapturedLog() throws {
        let fixture = try BronzeLogFixture.write(to: log)
        for style in BronzeTableStyle.allCases {
            let table = "market_data." + style.tableName(exchange: .binance)
            let start = Self.nowMicros()
            let result = try ReplayRunner.run(icebergArguments(table: table, style: style.rawValue)
                                              + ["--source", "kafka:" + BronzeLogFixture.kafkaTopic, "--create", "--commit-rows", "33", "--quiet"])
            XCTAssertEqual(result.status, 0, result.stderrText)
            let end = Self.nowMicros()
            let back = try TableReadBack.read(database: database, warehouse: warehouse, table: table)
            assertKafkaRows(back, expected: fixture.kafkaRecords, style: style, startMicros: start, endMicros: end)
        }
    }

    // MARK: Kafka → Iceberg

    func testKafkaTopicBackfilledIntoBothStyles() throws {
        _ = try BronzeLogFixture.write(to: log)
        let cluster = try EmbeddedKafkaCluster(brokers: 3)
        let topic = "market.crypto.trades.binance.raw"
        try cluster.createTopic(topic, partitions: 6)
        let produced = try ReplayRunner.run(["--from", log, "--to", "kafka", "--bootstrap", cluster.bootstrap, "--source", "binance",
                                             "--schema-id", "7", "--quiet"])
        XCTAssertEqual(produced.status, 0, produced.stderrText)

        // What an independent client reads from the topic: (partition, offset) → value, timestamp.
        let script = """
        import sys, json
        from kafka import KafkaConsumer, TopicPartition
        c = KafkaConsumer(bootstrap_servers=sys.argv[1].split(','), enable_auto_commit=False, api_version=(2, 5, 0))
        tps = [TopicPartition(sys.argv[2], p) for p in sorted(c.partitions_for_topic(sys.argv[2]))]
        c.assign(tps); c.seek_to_beginning()
        ends = c.end_offsets(tps); remaining = {tp for tp in tps if ends[tp] > 0}; out = []
        while remaining:
            for tp, msgs in c.poll(timeout_ms=5000).items():
                out += [[m.partition, m.offset, m.value.hex(), m.timestamp] for m in msgs]
                if msgs and msgs[-1].offset >= ends[tp] - 1: remaining.discard(tp)
        print(json.dumps(out))
        """
        let consumed = try ProcessRunner.python(script, [cluster.bootstrap, topic])
        XCTAssertEqual(consumed.status, 0, consumed.stderrText)
        var expected: [[Int64]: (value: [UInt8], timestampMs: Int64)] = [:]
        for item in try JSONSerialization.jsonObject(with: consumed.stdout) as? [[Any]] ?? [] {
            let hex = item[2] as! String
            var bytes: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                bytes.append(UInt8(hex[index..<next], radix: 16)!)
                index = next
            }
            expected[[(item[0] as! NSNumber).int64Value, (item[1] as! NSNumber).int64Value]] = (bytes, (item[3] as! NSNumber).int64Value)
        }
        XCTAssertEqual(expected.count, 240)

        for style in BronzeTableStyle.allCases {
            let table = "market_data." + style.tableName(exchange: .binance)
            let start = Self.nowMicros()
            let result = try ReplayRunner.run(icebergArguments(table: table, style: style.rawValue, from: "kafka://\(cluster.bootstrap)/\(topic)")
                                              + ["--create", "--commit-rows", "70", "--until-end", "--quiet", "--json"])
            XCTAssertEqual(result.status, 0, result.stderrText)
            let end = Self.nowMicros()
            let back = try TableReadBack.read(database: database, warehouse: warehouse, table: table)
            // The topic's values are K2's exchange records: fastavro decodes each.
            XCTAssertEqual(back.rows.compactMap(\.decoded).count, 240)
            var fixed = back
            fixed.rows = back.rows.map { var r = $0; r.decoded = nil; return r }
            fixed.duckRows = back.duckRows.map { var r = $0; r.decoded = nil; return r }
            assertKafkaRowsFromTopic(fixed, expected: expected, style: style, start: start, end: end)
            let last = back.snapshotSummaries.last { $0["k2.replay.run-id"] != nil }
            XCTAssertEqual(last?["k2.replay.source"], "kafka://\(cluster.bootstrap)/\(topic)")
        }
    }

    /// Offsets a backfill asks for that retention already removed: the run warns (topic, partition, range, count,
    /// table) even with --quiet, and writes every record Kafka still holds, once. The mock cluster keeps about
    /// 5 MB per partition and drops its oldest message sets beyond that, which is the retention here.
    func testOffsetsRemovedByRetentionAreReportedAndTheRestBackfilled() throws {
        let cluster = try EmbeddedKafkaCluster(brokers: 1)
        let topic = "market.crypto.trades.binance.raw"
        try cluster.createTopic(topic, partitions: 1, replicationFactor: 1)
        var config = KafkaConfig()
        config.set("bootstrap.servers", cluster.bootstrap)
        config.set("linger.ms", "0")
        config.set("compression.type", "none")   // the size that counts is what the broker stores
        let producer = try KafkaProducer(config: config)
        // 7 MB of values, each told apart by its index in front.
        let filler = (0..<5_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var values: [[UInt8]] = []
        for index in 0..<1_400 {
            values.append(Array("value \(index) ".utf8) + filler)
            try producer.produce(topic: topic, partition: 0, key: Array("BTCUSDT".utf8), value: values.last!)
        }
        XCTAssertTrue(producer.flush(timeoutMs: 60_000))
        let (low, high) = try producer.watermarks(topic: topic, partition: 0)
        XCTAssertEqual(high, 1_400)
        XCTAssertGreaterThan(low, 0, "the mock cluster was expected to drop its oldest messages beyond 5 MB")

        let table = "market_data." + BronzeTableStyle.spark.tableName(exchange: .binance)
        let result = try ReplayRunner.run(icebergArguments(table: table, style: "spark", from: "kafka://\(cluster.bootstrap)/\(topic)")
                                          + ["--create", "--from-offset", "0", "--until-end", "--quiet"])
        XCTAssertEqual(result.status, 0, result.stderrText)
        XCTAssertTrue(result.stderrText.contains("warning: \(topic) [0]: offsets [0, \(low - 1)] (\(low) records) are no longer in Kafka"),
                      result.stderrText)
        XCTAssertTrue(result.stderrText.contains("missing from table \(table)"), result.stderrText)

        let back = try TableReadBack.read(database: database, warehouse: warehouse, table: table)
        XCTAssertEqual(back.rows.map(\.offset), (low..<high).map { Optional($0) })
        for row in back.rows {
            XCTAssertEqual(row.rawHex, Self.hex(values[Int(row.offset!)]), "offset \(row.offset!)")
        }
        XCTAssertEqual(back.duckRows.count, Int(high - low))
    }

    private func assertKafkaRowsFromTopic(_ back: TableReadBack, expected: [[Int64]: (value: [UInt8], timestampMs: Int64)],
                                          style: BronzeTableStyle, start: Int64, end: Int64) {
        assertKafkaRows(back, expected: expected, style: style, startMicros: start, endMicros: end)
    }
}
