import SegmentLog

extension CaptureOptions {
    /// Opens the segment log in `directory` (recovering what a crashed writer left); on failure, says why in
    /// `summary` and on stderr, and returns nil.
    func openLog(recordingFailureIn summary: inout CaptureSummary) -> SegmentLogWriter? {
        do {
            return try SegmentLogWriter(directory: directory, options: writer) { message in
                CaptureLog.warn("segment-log", [("directory", directory), ("message", message)])
            }
        } catch {
            summary.error = "cannot open the segment log directory \(directory): \(error)"
            CaptureLog.error("start-failed", [("directory", directory), ("error", "\(error)")])
            return nil
        }
    }
}
