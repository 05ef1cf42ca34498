import Bronze

/// A Kafka source's ledger kept in a Bronze table: the run's recorded progress (`k2.replay.*` in its
/// commits), pinned starts and fixed ends committed with the rows.
final class TableLedger: KafkaSourceLedger {
    let appender: BronzeTableAppender

    init(appender: BronzeTableAppender) { self.appender = appender }

    func end(_ key: String, high: Int64) -> Int64 {
        appender.fixEnd(key, high)
        return appender.progress.end[key] ?? high
    }

    func done(_ key: String) -> Int64? { appender.progress.done[key] }

    func pinStart(_ key: String, _ start: Int64) { appender.markDone(key, start - 1) }
}
