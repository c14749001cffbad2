/* dp_checksum.h: CRC-32 (IEEE 802.3, the polynomial Parquet page CRCs and gzip use) and a 64-bit
 * non-cryptographic hash for fingerprints (configs, inputs, checkpoints) and seeding.
 * Thread safety: pure functions.
 */
#ifndef DP_UTIL_CHECKSUM_H
#define DP_UTIL_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Running CRC-32: start with crc = 0, feed chunks, the result is the standard CRC-32. */
uint32_t dp_crc32(uint32_t crc, const void *data, size_t len);

/* 64-bit hash of bytes with a seed; stable across platforms and versions of dpipe (it is stored
 * in manifests), so never change its definition. */
uint64_t dp_hash64(const void *data, size_t len, uint64_t seed);
/* Hash of a NUL-terminated string. */
uint64_t dp_hash64_str(const char *s, uint64_t seed);
/* Mix two 64-bit values into one (order matters). */
uint64_t dp_hash64_combine(uint64_t a, uint64_t b);

#endif
