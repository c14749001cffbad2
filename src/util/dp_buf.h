/* dp_buf.h: an owning, growable byte buffer (dp_buf) and a borrowed view (dp_view).
 *
 * dp_buf owns `data` (allocated with dp_malloc); init/reset are safe on a zeroed struct and
 * reset may be called twice. Growth is geometric and checked against DP_LIMIT_ALLOC_MAX.
 * A dp_view never owns its bytes. Thread safety: plain values, one thread at a time.
 */
#ifndef DP_UTIL_BUF_H
#define DP_UTIL_BUF_H

#include "util/dp_base.h"

typedef struct dp_view {
    const uint8_t *data;
    size_t len;
} dp_view;

typedef struct dp_buf {
    uint8_t *data;
    size_t size;
    size_t capacity;
} dp_buf;

void dp_buf_init(dp_buf *b);
void dp_buf_reset(dp_buf *b);
/* Make capacity >= n (contents kept). */
dp_status dp_buf_reserve(dp_buf *b, size_t n) DP_MUST_USE;
/* Set size to n, growing capacity when needed (new bytes uninitialised). */
dp_status dp_buf_resize(dp_buf *b, size_t n) DP_MUST_USE;
dp_status dp_buf_append(dp_buf *b, const void *data, size_t n) DP_MUST_USE;
dp_status dp_buf_append_u8(dp_buf *b, uint8_t v) DP_MUST_USE;
/* printf-style append; the NUL is not counted in size but is written. */
dp_status dp_buf_printf(dp_buf *b, const char *fmt, ...) DP_PRINTF(2, 3) DP_MUST_USE;

#endif
