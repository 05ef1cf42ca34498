import K2Core
/// What makes two `--to kafka` runs the same replay, so the second resumes the first: the canonical log path,
/// the selection, the value format and schema ids, the topic override and the target cluster (the same log
/// into another cluster is another replay). Pacing and progress options are not part of it.
struct ReplayIdentity: Codable, Equatable {
    var log: String
    var sources: [String]?
    var symbols: [String]?
    var sinceNanos: Int64?
    var untilNanos: Int64?
    var format: String
    /// Exchange → schema id (avro-confluent), empty for the other formats.
    var schemaIds: [String: Int32]
    var topic: String?
    var clusterId: String
    /// A looped replay (`--passes`, `--duration`): the pass and its stamp; each pass has its own checkpoint.
    var pass: PassStamp? = nil

    enum CodingKeys: String, CodingKey {
        case log, sources, symbols, format, topic, pass
        case sinceNanos = "since_ns", untilNanos = "until_ns", schemaIds = "schema_ids", clusterId = "cluster_id"
    }

    /// One line of text holding every field in a fixed order: what the checkpoint's file name hashes.
    var canonicalText: String {
        var fields = ["log=\(log)", "format=\(format)", "cluster=\(clusterId)"]
        fields.append("sources=" + (sources?.joined(separator: ",") ?? "*"))
        fields.append("symbols=" + (symbols?.joined(separator: ",") ?? "*"))
        fields.append("since=" + (sinceNanos.map(String.init) ?? "-"))
        fields.append("until=" + (untilNanos.map(String.init) ?? "-"))
        fields.append("schema_ids=" + schemaIds.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ","))
        fields.append("topic=" + (topic ?? "-"))
        if let pass { fields.append("pass=\(pass.pass)@\(pass.anchorMs)") }
        return fields.joined(separator: "\u{0}")
    }

    /// The checkpoint file name: `replay-` and FNV-1a-64 of `canonicalText` in 16 hex digits. The file also
    /// holds the identity in clear, checked on load, so a hash collision cannot resume the wrong replay.
    var checkpointFileName: String {
        "replay-" + FNV1a.hex(FNV1a.hash(canonicalText.utf8)) + ".json"
    }
}
