/* pq_bitpack.h: internal bit-(un)packing kernels shared by the RLE/bit-packed hybrid and the
 * DELTA_BINARY_PACKED coders (parquet layer only; not part of the encoding API).
 *
 * Packing is LSB first in groups of 8 values: a group of width w occupies exactly w bytes.
 * Unpackers trust their arguments (the decoders have checked them against the input size):
 * `src` starts at a group boundary, `avail` bytes are readable from `src`, and
 * avail >= ceil(n * bw / 8). They never read past src + avail: whole groups use unaligned 64-bit
 * loads only while at least 8 bytes of slack remain, the tail goes through a zero-padded copy.
 * Thread safety: pure functions.
 */
#ifndef DP_PARQUET_BITPACK_H
#define DP_PARQUET_BITPACK_H

#include "util/dp_buf.h"

#include <stddef.h>
#include <stdint.h>

/* n values of width bw (0..32) into out[0..n). */
void dp__pq_unpack32(const uint8_t *src, size_t avail, int bw, uint32_t *out, size_t n);
/* n values of width bw (0..64) into out[0..n). */
void dp__pq_unpack64(const uint8_t *src, size_t avail, int bw, uint64_t *out, size_t n);
/* Pack n values (n a multiple of 8; each < 2^bw) of width bw (0..64) into n * bw / 8 bytes. */
void dp__pq_pack64(const uint64_t *values, size_t n, int bw, uint8_t *dst);
/* Same for 32-bit values (bw 0..32). */
void dp__pq_pack32(const uint32_t *values, size_t n, int bw, uint8_t *dst);
/* ULEB128 at data[*pos] (advanced past it on success): 0 ok, 1 the input ends inside it
 * (truncated), 2 longer than 10 bytes or over 64 bits (corrupt). */
int dp__pq_read_uleb(const uint8_t *data, size_t len, size_t *pos, uint64_t *out);
/* Append v as ULEB128 (the varint of run headers and delta headers). */
dp_status dp__pq_put_uleb(dp_buf *out, uint64_t v) DP_MUST_USE;

#endif
