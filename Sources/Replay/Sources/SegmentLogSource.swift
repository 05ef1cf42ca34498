import K2Core
import SegmentLog

/// A segment log's selected records handed to a sink in log order (streams merged by receive time).
struct SegmentLogSource {
    let reader: SegmentLogReader

    /// How records are read.
    enum Mode {
        /// As views of the reader's block buffer: the frame is scanned where it lies and copied once, by the
        /// sink (docs/replay.md, "Cost per message").
        case views
        /// As one reused record value (its payload storage refilled, not reallocated): sinks that keep text.
        case records
        /// Read (decompressed, decoded) on another thread a few thousand records ahead; only records of
        /// `streams` come out.
        case readAhead(streams: [StreamKey])
    }

    /// Reads until the log's end or a stop request; returns the records read and the messages they made.
    func run(into sink: ReplaySink, mode: Mode, stop: CancellationSignal, progress: ProgressReporter) throws -> (records: Int, messages: Int) {
        var records = 0, messages = 0
        switch mode {
        case .views:
            // The reader's own streams, not a listing made before: a live capture may have added one.
            sink.readerStreams = reader.streamKeys
            while !stop.isCancelled, try reader.next(view: { view in messages += try sink.write(view: view) }) {
                records += 1
                if records & 255 == 0 { progress.tick(records: records, messages: messages, note: sink.progressNote) }
            }
        case .records:
            var record = LogRecord(receiveTimeNanos: 0, source: "", stream: "", payload: [])
            while !stop.isCancelled, try reader.next(into: &record) {
                messages += try sink.write(record)
                records += 1
                if records & 255 == 0 { progress.tick(records: records, messages: messages, note: sink.progressNote) }
            }
        case .readAhead(let streams):
            let prefetch = PrefetchingLogReader(reader: reader, streams: streams)
            defer { prefetch.stop() }
            sink.readerStreams = streams
            while !stop.isCancelled, try prefetch.next(view: { view in messages += try sink.write(view: view) }) {
                records += 1
                if records & 255 == 0 { progress.tick(records: records, messages: messages, note: sink.progressNote) }
            }
        }
        return (records, messages)
    }
}
