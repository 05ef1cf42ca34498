/// What one side of a check is, as the report names it.
public struct SideDescription: Codable, Sendable, Equatable {
    /// `iceberg`, `kafka`, `log` or `rows` (built in memory, tests).
    public var kind: String
    /// The table (`market_data.bronze_binance_trades`), topic URL or log directory.
    public var name: String
    @NullWhenAbsent public var snapshotId: Int64?
    /// Further facts (catalog, metadata location, format version, bootstrap servers, ...).
    public var details: [String: String]

    public init(kind: String, name: String, snapshotId: Int64? = nil, details: [String: String] = [:]) {
        self.kind = kind
        self.name = name
        self.snapshotId = snapshotId
        self.details = details
    }

    enum CodingKeys: String, CodingKey {
        case kind, name, details
        case snapshotId = "snapshot_id"
    }
}
