import CK2Native

/// glibc malloc settings for the programs that move millions of messages.
public enum AllocatorTuning {
    /// Keeps freed memory in the process instead of handing it back to the kernel at once. By default glibc
    /// serves blocks over 128 KiB (librdkafka's request and compression buffers, our batch buffers) with a
    /// fresh `mmap` and trims a thread arena's heap as soon as 128 KiB at its top are free; every reuse of that
    /// memory then page-faults again. A replay of 500,000 messages into Kafka took about 13,000 page faults;
    /// with these two settings about 6,000, CPU 7% and wall time 3% lower (median of 12 paired runs), peak
    /// resident memory 52 → 54 MB (docs/replay.md, "Cost per message"). Setting the trim threshold alone
    /// would switch off glibc's adaptive mmap threshold and fault more, so both are set.
    @discardableResult
    public static func keepFreedMemory() -> Bool {
        k2_malloc_keep_freed(4 << 20, 64 << 20) == 1
    }
}
