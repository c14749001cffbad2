#include "util/dp_buf.h"
#include "util/dp_alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void dp_buf_init(dp_buf *b) {
    b->data = NULL;
    b->size = 0;
    b->capacity = 0;
}

void dp_buf_reset(dp_buf *b) {
    dp_free(b->data);
    dp_buf_init(b);
}

dp_status dp_buf_reserve(dp_buf *b, size_t n) {
    if (n <= b->capacity)
        return DP_OK;
    size_t cap = b->capacity < 64 ? 64 : b->capacity;
    while (cap < n) {
        if (cap > SIZE_MAX / 2) {
            cap = n;
            break;
        }
        cap *= 2;
    }
    uint8_t *p = dp_realloc(b->data, cap);
    if (p == NULL) {
        p = dp_realloc(b->data, n); /* the doubling may be what failed */
        if (p == NULL)
            return DP_NOMEM;
        cap = n;
    }
    b->data = p;
    b->capacity = cap;
    return DP_OK;
}

dp_status dp_buf_resize(dp_buf *b, size_t n) {
    DP_TRY(dp_buf_reserve(b, n));
    b->size = n;
    return DP_OK;
}

dp_status dp_buf_append(dp_buf *b, const void *data, size_t n) {
    size_t need;
    if (!dp_add_size(b->size, n, &need))
        return DP_LIMIT;
    DP_TRY(dp_buf_reserve(b, need));
    if (n > 0)
        memcpy(b->data + b->size, data, n);
    b->size = need;
    return DP_OK;
}

dp_status dp_buf_append_u8(dp_buf *b, uint8_t v) {
    return dp_buf_append(b, &v, 1);
}

dp_status dp_buf_printf(dp_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    dp_status st = DP_OK;
    if (n < 0) {
        st = DP_INVALID_ARG;
    } else {
        st = dp_buf_reserve(b, b->size + (size_t) n + 1);
        if (st == DP_OK) {
            vsnprintf((char *) b->data + b->size, (size_t) n + 1, fmt, ap2);
            b->size += (size_t) n;
        }
    }
    va_end(ap2);
    return st;
}
