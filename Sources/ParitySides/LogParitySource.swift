import K2Core
import Parity
import SegmentLog

/// A segment log captured from Kafka (`k2-capture` with a Kafka source) as a side: its data records of
/// sources `kafka:<topic>`, each carrying the partition, offset and timestamp it had in Kafka.
final class LogParitySource: ParitySource {
    let directory: String
    let description: SideDescription
    private let cancellation: CancellationSignal
    private let diagnostics: (String) -> Void

    init(directory: String, cancellation: CancellationSignal, diagnostics: @escaping (String) -> Void) {
        self.directory = directory
        self.cancellation = cancellation
        self.diagnostics = diagnostics
        description = SideDescription(kind: "log", name: "log:\(directory)", details: ["directory": directory])
    }

    func scan(scope: ParityScope, partitions: Set<PartitionKey>?, payload: Bool,
              into sink: (inout ParityChunk) throws -> Void) async throws {
        let streams: [StreamKey]
        do {
            streams = try SegmentLogReader.streams(in: directory)
        } catch {
            throw ParityCheckError("log:\(directory): \(error)")
        }
        let kafkaStreams = streams.filter { $0.source.hasPrefix("kafka:") }
        guard !kafkaStreams.isEmpty else {
            throw ParityCheckError("log:\(directory): no records captured from Kafka (sources: \(Set(streams.map(\.source)).sorted().joined(separator: ", ")))")
        }
        var selection = ReadSelection()
        selection.kinds = [.data]
        selection.sources = Set(kafkaStreams.map(\.source))
        if let wanted = scope.partitions { selection.streams = Set(wanted.map(String.init)) }
        if let partitions { selection.streams = Set(partitions.map { String($0.partition) }) }
        let reader: SegmentLogReader
        do {
            reader = try SegmentLogReader(directory: directory, selection: selection, skipCorrupt: false, diagnostics: diagnostics)
        } catch {
            throw ParityCheckError("log:\(directory): \(error)")
        }

        var chunks: [PartitionKey: ParityChunk] = [:]
        var records = 0
        while true {
            // Checked every 4096 records: reading one costs a fraction of a microsecond.
            records += 1
            if records & 4095 == 0 { try cancellation.check() }
            let next: LogRecord?
            do { next = try reader.next() } catch { throw ParityCheckError("log:\(directory): \(error)") }
            guard let record = next else { break }
            guard let kafka = record.kafka else { continue }
            let key = PartitionKey(topic: String(record.source.dropFirst("kafka:".count)), partition: kafka.partition)
            if let partitions, !partitions.contains(key) { continue }
            var chunk = chunks.removeValue(forKey: key) ?? ParityChunk(key: key, payloadHashes: payload ? [] : nil)
            chunk.offsets.append(kafka.offset)
            chunk.timestampsMicros.append(kafka.timestampMs * 1000)
            if payload { chunk.payloadHashes!.append(PayloadHash.hash(record.payload)) }
            if chunk.count >= 4096 {
                try sink(&chunk)
                chunk.removeAll()
            }
            chunks[key] = chunk
        }
        for key in chunks.keys.sorted() where chunks[key]!.count > 0 {
            try sink(&chunks[key]!)
        }
    }
}
