/* dp_serial.h: byte serialisation of accumulator state (checkpoints, MPI merges).
 *
 * A record is: magic (u32) | version (u32) | payload length (u64) | payload | CRC-32 (u32) of
 * everything before it. All integers and doubles are little-endian (doubles bit-exact).
 * The writer keeps an error flag once an append fails, so one check in dp_sw_end suffices
 * (redis rio style). The reader checks magic, version, length and CRC up front (dp_sr_begin),
 * then every read is bounds-checked; dp_sr_end requires the payload to be consumed exactly.
 * Ownership: the writer appends to a caller-owned dp_buf; the reader borrows its bytes.
 * Thread safety: plain values, one thread at a time.
 */
#ifndef DP_UTIL_SERIAL_H
#define DP_UTIL_SERIAL_H

#include "util/dp_buf.h"
#include "util/dp_cursor.h"

typedef struct dp_serial_writer {
    dp_buf *out;
    size_t start;
    bool failed;
} dp_serial_writer;

void dp_sw_begin(dp_serial_writer *w, dp_buf *out, uint32_t magic, uint32_t version);
void dp_sw_u8(dp_serial_writer *w, uint8_t v);
void dp_sw_u32(dp_serial_writer *w, uint32_t v);
void dp_sw_u64(dp_serial_writer *w, uint64_t v);
void dp_sw_i64(dp_serial_writer *w, int64_t v);
void dp_sw_f64(dp_serial_writer *w, double v);
void dp_sw_bytes(dp_serial_writer *w, const void *p, size_t n);
void dp_sw_f64_array(dp_serial_writer *w, const double *p, size_t n);
void dp_sw_i64_array(dp_serial_writer *w, const int64_t *p, size_t n);
/* Length-prefixed string (u32 length, bytes). */
void dp_sw_str(dp_serial_writer *w, const char *s);
/* Patch the length, append the CRC. DP_NOMEM if any append failed. */
dp_status dp_sw_end(dp_serial_writer *w, dp_error *err) DP_MUST_USE;

typedef struct dp_serial_reader {
    dp_cursor c;
    bool failed;
    uint32_t version;
    const char *what; /* for messages: "moments accumulator" */
} dp_serial_reader;

/* Verify the record in data[0..len) (magic, version <= max_version, length, CRC) and position
 * the reader at the payload. *consumed_total (optional) receives the record's full size so
 * several records can follow each other in one buffer. */
dp_status dp_sr_begin(dp_serial_reader *r, const void *data, size_t len, uint32_t magic,
                      uint32_t max_version, const char *what, size_t *consumed_total,
                      dp_error *err) DP_MUST_USE;
bool dp_sr_u8(dp_serial_reader *r, uint8_t *v);
bool dp_sr_u32(dp_serial_reader *r, uint32_t *v);
bool dp_sr_u64(dp_serial_reader *r, uint64_t *v);
bool dp_sr_i64(dp_serial_reader *r, int64_t *v);
bool dp_sr_f64(dp_serial_reader *r, double *v);
bool dp_sr_bytes(dp_serial_reader *r, void *dst, size_t n);
bool dp_sr_f64_array(dp_serial_reader *r, double *dst, size_t n);
bool dp_sr_i64_array(dp_serial_reader *r, int64_t *dst, size_t n);
/* Borrow a length-prefixed string (not NUL-terminated). */
bool dp_sr_str(dp_serial_reader *r, const char **s, size_t *n);
/* Bytes left in the payload (to bound counts read from it before allocating). */
size_t dp_sr_remaining(const dp_serial_reader *r);
/* CORRUPT if a read failed or payload bytes are left over. */
dp_status dp_sr_end(dp_serial_reader *r, dp_error *err) DP_MUST_USE;

#endif
