import Bronze
import Iceberg
import K2Core

/// What names a run, so that a rerun with the same meaning resumes it whatever the spelling of its
/// arguments: everything is taken from parsed values (times as nanoseconds, sources sorted, clusters by
/// id), never from the text as typed. `--to kafka` names its checkpoint with it (`ReplayIdentity`),
/// `--to iceberg` its commits (`BronzeReplayProgress.runId`).
enum RunIdentity {
    /// A Kafka source's range: start offset, time bounds and partition selection. The time keys keep the
    /// names of the options `--since`/`--until` replaced, so runs recorded before keep their ids.
    static func kafkaRange(_ configuration: ReplayConfiguration) -> [String] {
        var parts = [offsetsKey(configuration.offsets),
                     "from-time=\(configuration.sinceNanos.map(String.init) ?? "")",
                     "until-time=\(configuration.untilNanos.map(String.init) ?? "")"]
        if let partitions = configuration.sourcePartitions { parts.append("partitions=" + partitionList(partitions)) }
        return parts
    }

    /// `from-offset=earliest|latest|N` for one open range on every partition (as runs recorded it before
    /// `--offsets`, so they keep their ids), else `offsets=` and the canonical ranges.
    static func offsetsKey(_ offsets: PartitionOffsetRanges) -> String {
        if offsets.partitions.isEmpty, offsets.everyPartition.count == 1, let span = offsets.everyPartition.first, span.last == nil {
            switch span.first {
            case .earliest: return "from-offset=earliest"
            case .latest: return "from-offset=latest"
            case .offset(let n): return "from-offset=\(n)"
            }
        }
        return "offsets=\(offsets)"
    }

    /// `0,3,5`: a partition selection in order.
    static func partitionList(_ partitions: Set<Int32>) -> String {
        partitions.sorted().map(String.init).joined(separator: ",")
    }

    /// The run id of `--to iceberg` (and ids it had before, still read), with the source as people read it.
    struct IcebergRun {
        var current: String
        var legacy: [String]
        var sourceDescription: String
    }

    static func iceberg(_ context: ReplayContext, table: TableIdentifier, style: BronzeTableStyle) throws -> IcebergRun {
        let configuration = context.configuration
        let shard = configuration.shard
        let base = ["table=\(table)", "style=\(style.rawValue)", "shard=\(shard.index)/\(shard.count)"]
        switch configuration.origin {
        case .segmentLog(let directory):
            let parts = base + ["log=\(directory)",
                                "source=" + (configuration.sources?.sorted().joined(separator: ",") ?? ""),
                                "symbols=" + (configuration.symbols?.joined(separator: ",") ?? ""),
                                "since=" + (configuration.sinceNanos.map(String.init) ?? ""),
                                "until=" + (configuration.untilNanos.map(String.init) ?? ""),
                                "format=\(configuration.format.rawValue)", "partitions=\(configuration.topicPartitions)"]
                + (configuration.offsets == .everything ? [] : ["offsets=\(configuration.offsets)"])
            return IcebergRun(current: BronzeReplayProgress.runId(parts), legacy: [], sourceDescription: directory)
        case .kafka(let bootstrap, let topic):
            let description = "kafka://\(bootstrap)/\(topic)"
            // The cluster is named by its id, not by the address as typed: `localhost:9092` and
            // `127.0.0.1:9092` are one cluster and one run.
            let clusterId = try IcebergReplay.clusterId(context, bootstrap: bootstrap)
            let current = base + ["kafka-cluster=\(clusterId)", "topic=\(topic)"] + kafkaRange(configuration)
            var legacy: [String] = []
            if configuration.sinceNanos == nil && configuration.untilNanos == nil && configuration.sourcePartitions == nil {
                // Runs begun before run ids named the cluster by id (they hashed the address as typed).
                legacy.append(BronzeReplayProgress.runId(base + ["kafka=\(description)", offsetsKey(configuration.offsets),
                                                                 "from-time=", "until-time="]))
            }
            return IcebergRun(current: BronzeReplayProgress.runId(current), legacy: legacy, sourceDescription: description)
        }
    }
}
