import Codecs

/// The partition librdkafka's default partitioner (`consistent_random`) gives a keyed record:
/// CRC-32 (zlib's) of the key bytes modulo the partition count. K2's v1 producers used it, so a replay
/// that leaves partitioning to librdkafka lands every symbol where K2 put it; `--dry-run` uses this to
/// count per partition without a broker.
public enum K2Partitioner {
    /// nil for an empty key: librdkafka places empty and null keys at random.
    public static func partition(key: [UInt8], partitionCount: Int32) -> Int32? {
        guard !key.isEmpty, partitionCount > 0 else { return nil }
        return Int32(CRC32.checksum(key) % UInt32(partitionCount))
    }

    public static func partition(key: String, partitionCount: Int32) -> Int32? {
        partition(key: Array(key.utf8), partitionCount: partitionCount)
    }
}
