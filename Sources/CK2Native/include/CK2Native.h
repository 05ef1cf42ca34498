#ifndef CK2NATIVE_H
#define CK2NATIVE_H
#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), as iSCSI, ext4 and Kafka record batches use it.
/// `crc` is the value returned for the preceding bytes (0 to start); the result already includes the
/// final inversion, so k2_crc32c(k2_crc32c(0, a), b) == k2_crc32c(0, a ++ b).
/// Uses the SSE4.2 crc32 instruction when the CPU has it, else a slicing-by-8 table.
uint32_t k2_crc32c(uint32_t crc, const void *data, size_t length);

/// The table-driven implementation alone (for tests that compare both paths).
uint32_t k2_crc32c_software(uint32_t crc, const void *data, size_t length);

/// 1 when k2_crc32c uses the CPU instruction.
int k2_crc32c_hardware_available(void);

/// glibc malloc tuning for the high-rate programs: blocks up to `mmap_threshold` bytes come from the heap
/// instead of a fresh mmap, and a heap is trimmed only when `trim_threshold` bytes at its top are free.
/// Returns 1 when both settings were taken (0 elsewhere than glibc).
int k2_malloc_keep_freed(int mmap_threshold, int trim_threshold);

/// Names the calling thread (at most 15 bytes on Linux, where /proc/self/task/<tid>/comm shows it; Foundation's
/// Thread.name does not reach the kernel there). Returns 1 when the name was set.
int k2_set_thread_name(const char *name);

#endif
