/// How a check runs.
public struct ParityOptions: Sendable {
    public var scope: ParityScope
    /// Compare a hash of each offset's payload (`raw_bytes`, the Kafka value) between the sides.
    public var comparePayload: Bool
    /// Offsets whose payload hashes are held in memory at once per stored side (8 bytes each). Partitions
    /// are compared in groups (and long partitions in offset windows) that fit, one scan of each side per
    /// group, so memory stays bounded whatever the table size.
    public var payloadWindowOffsets: Int64
    /// Cap on ranges listed per partition and list in the text output (the JSON always lists all).
    public var textRangeLimit: Int

    public init(scope: ParityScope = .everything, comparePayload: Bool = false,
                payloadWindowOffsets: Int64 = 8 << 20, textRangeLimit: Int = 8) {
        self.scope = scope
        self.comparePayload = comparePayload
        self.payloadWindowOffsets = payloadWindowOffsets
        self.textRangeLimit = textRangeLimit
    }
}
