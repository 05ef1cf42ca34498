/// What a replay from a Kafka topic keeps between runs, per source partition (key `kafka:TOPIC/P`): the end
/// offset fixed at its first run, and the last offset done. `--to iceberg` keeps them in the table's commits,
/// `--to kafka` in its checkpoint file; either way a rerun reads the same ranges and skips what was done.
protocol KafkaSourceLedger: AnyObject {
    /// The end offset of `key`: the one recorded, or `high` (recorded from now on) when there is none.
    func end(_ key: String, high: Int64) -> Int64
    /// The offset before the first one to read: the last one done (or, before any, `start - 1` as pinned);
    /// nil when nothing is recorded.
    func done(_ key: String) -> Int64?
    /// Records `start` before anything of `key` is read, so a run that gets no further still pins it.
    func pinStart(_ key: String, _ start: Int64)
}
