/* pq_encoding.h: Parquet value and level encodings, as pure functions over untrusted bytes.
 *
 * Every decoder reads only [data, data + len), writes at most `count` values into caller-owned
 * output, and returns DP_TRUNCATED when the input ends before `count` values were produced, or
 * DP_CORRUPT for impossible headers (bit width > 32/64, negative lengths, overflowing miniblock
 * counts...). `*consumed` (where present) receives the bytes used, for encodings that are
 * followed by more data. Messages name the encoding and the numbers involved; callers prefix
 * file/column/page context.
 * Thread safety: pure functions.
 */
#ifndef DP_PARQUET_ENCODING_H
#define DP_PARQUET_ENCODING_H

#include "util/dp_base.h"
#include "util/dp_buf.h"

/* RLE / bit-packed hybrid (levels, dictionary indices, RLE booleans) with bit width 0..32.
 * Decodes exactly `count` values; a final run may hold more values than needed. */
dp_status dp_pq_rle_decode(const uint8_t *data, size_t len, int bit_width, uint32_t *out,
                           int64_t count, size_t *consumed, dp_error *err) DP_MUST_USE;

/* Deprecated BIT_PACKED level encoding (values packed from the most significant bit). */
dp_status dp_pq_bitpacked_legacy_decode(const uint8_t *data, size_t len, int bit_width,
                                        uint32_t *out, int64_t count, size_t *consumed,
                                        dp_error *err) DP_MUST_USE;

/* Dictionary indices of an RLE_DICTIONARY / PLAIN_DICTIONARY data page: one byte of bit width
 * followed by the hybrid stream. Indices are NOT checked against the dictionary size here. */
dp_status dp_pq_dict_indices_decode(const uint8_t *data, size_t len, uint32_t *out, int64_t count,
                                    dp_error *err) DP_MUST_USE;

/* PLAIN for fixed-width values (INT32: 4, INT64/DOUBLE: 8, FLOAT: 4, INT96: 12, FLBA: width):
 * copies count*width bytes. */
dp_status dp_pq_plain_fixed_decode(const uint8_t *data, size_t len, size_t width, int64_t count,
                                   void *out, size_t *consumed, dp_error *err) DP_MUST_USE;

/* PLAIN BOOLEAN: bit-packed, least significant bit first; out[i] is 0 or 1. */
dp_status dp_pq_plain_bool_decode(const uint8_t *data, size_t len, int64_t count, uint8_t *out,
                                  size_t *consumed, dp_error *err) DP_MUST_USE;

/* Variable-length byte strings: value i is heap->data[offsets[i] .. offsets[i+1]).
 * Decoders append to `heap` (which may already hold bytes) and write count+1 offsets, the first
 * being heap->size on entry. Each value is limited to DP_LIMIT_STRING_MAX. */
dp_status dp_pq_plain_byte_array_decode(const uint8_t *data, size_t len, int64_t count,
                                        int64_t *offsets, dp_buf *heap, size_t *consumed,
                                        dp_error *err) DP_MUST_USE;
dp_status dp_pq_delta_length_byte_array_decode(const uint8_t *data, size_t len, int64_t count,
                                               int64_t *offsets, dp_buf *heap, size_t *consumed,
                                               dp_error *err) DP_MUST_USE;
dp_status dp_pq_delta_byte_array_decode(const uint8_t *data, size_t len, int64_t count,
                                        int64_t *offsets, dp_buf *heap, size_t *consumed,
                                        dp_error *err) DP_MUST_USE;

/* DELTA_BINARY_PACKED. The 32-bit form wraps modulo 2^32 like the writers do. `count` is the
 * number of values wanted; a header announcing fewer is TRUNCATED, more is fine. */
dp_status dp_pq_delta_binary_decode_i32(const uint8_t *data, size_t len, int64_t count,
                                        int32_t *out, size_t *consumed, dp_error *err) DP_MUST_USE;
dp_status dp_pq_delta_binary_decode_i64(const uint8_t *data, size_t len, int64_t count,
                                        int64_t *out, size_t *consumed, dp_error *err) DP_MUST_USE;

/* BYTE_STREAM_SPLIT for any width (FLOAT 4, DOUBLE 8, INT32 4, INT64 8, FLBA/FLOAT16 width):
 * the page holds `width` streams of `n_total` bytes (n_total = non-null values in the page);
 * decodes values [0, count) with count <= n_total. */
dp_status dp_pq_bss_decode(const uint8_t *data, size_t len, size_t width, int64_t n_total,
                           int64_t count, void *out, dp_error *err) DP_MUST_USE;

/* Encoders for the writer and tests. */
dp_status dp_pq_rle_encode(const uint32_t *values, int64_t count, int bit_width,
                           dp_buf *out) DP_MUST_USE;
dp_status dp_pq_delta_binary_encode_i64(const int64_t *values, int64_t count,
                                        dp_buf *out) DP_MUST_USE;

#endif
