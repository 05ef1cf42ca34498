/// The files of one snapshot as `TableInspection.files(of:filters:)` finds them.
public struct SnapshotFiles: Sendable, Equatable {
    public var snapshotId: Int64
    /// Distinct live data file paths, and live position or equality delete files.
    public var liveDataFiles: Int
    public var liveDeleteFiles: Int
    /// `total-records` of the snapshot summary (rows of its data files, deleted or not), when present.
    public var summaryTotalRecords: Int64?
    /// Data files ADDED by more than one snapshot: their rows are committed more than once.
    public var addedMoreThanOnce: [RepeatedDataFile]
    /// Data files listed live more than once in the snapshot without having been added twice.
    public var liveMoreThanOnce: [LiveDataFileRepeat]
}

/// A data file path that more than one snapshot added.
public struct RepeatedDataFile: Sendable, Equatable {
    public var path: String
    public var addedBySnapshots: [Int64]
    public var recordCount: Int64
}

/// A data file path listed live `times` times in one snapshot.
public struct LiveDataFileRepeat: Sendable, Equatable {
    public var path: String
    public var times: Int
}

/// A snapshot summary entry found walking a snapshot's ancestry: the newest value of the key.
public struct SummaryMarker: Sendable, Equatable {
    public var key: String
    public var value: String
    public var snapshotId: Int64
}
