// SegmentLog: the durable, segmented, compressed, checksummed record log that k2-capture writes and the
// other programs read. Format: docs/segment-format.md.
